"""A conversation tree (messages with parents: edits and regenerations) as the thread the
site showed plus its other branches, in time linear in the number of messages.

The thread is the path from the current message back to the root. Every other leaf
makes a branch of only what it does not share with a path taken before it: the turn it
branches from (so that a branch read alone says what it follows), then its own turns,
with the position of its first turn in the conversation (the store keeps branches so).
Why not each leaf's whole path: one side leaf per message makes that quadratic (a
627 KB export made 2.6 million branch rows). A branch that repeats what it branches
from (a regeneration giving the same answer) is dropped.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence

from ..store.records import Turn, content_key  # (role, Markdown text[, meta])


def threads(
    parents: dict[Hashable, Hashable | None], current: Hashable | None, render: Callable[[Hashable], Sequence[Turn]]
) -> tuple[list[Turn], list[tuple[int, list[Turn]]], list[Hashable]]:
    """(turns of the current thread, branches as (position of their first turn, turns), the
    current thread's message ids root first).

    `render` gives a message's turns: none for what the site hides, several for a message
    made of text and tool calls."""
    rendered: dict[Hashable, Sequence[Turn]] = {}
    # taken message -> (its path's turns, how many up to it, the path's first position)
    where: dict[Hashable, tuple[list[Turn], int, int]] = {}

    def turns_of(k: Hashable) -> Sequence[Turn]:
        if k not in rendered:
            rendered[k] = render(k)
        return rendered[k]

    def take(leaf: Hashable) -> tuple[list[Hashable], Hashable | None]:
        """The messages from `leaf` up to the first one already taken (root first), and that one."""
        path, node = [], leaf
        while node in parents and node not in where:
            where[node] = ([], 0, 0)  # taken (also stops a cycle); filled in by lay()
            path.append(node)
            node = parents[node]
        return path[::-1], (node if node in where else None)

    def lay(path: list[Hashable], start: int) -> list[Turn]:
        turns: list[Turn] = []
        for k in path:
            turns.extend(turns_of(k))
            where[k] = (turns, len(turns), start)
        return turns

    main_ids = take(current)[0] if current is not None else []
    main = lay(main_ids, 0)
    has_child = {p for p in parents.values() if p is not None}
    branches: list[tuple[int, list[Turn]]] = []
    seen: set[tuple[Hashable, tuple[tuple, ...]]] = set()
    for leaf in parents:
        if leaf in has_child or leaf in where:
            continue
        path, fork = take(leaf)
        on, upto, base = where[fork] if fork is not None else ([], 0, 0)
        own = lay(path, base + upto)
        if not own:
            continue
        start = base + upto
        if fork is not None:
            said = tuple(map(content_key, own))  # a regeneration at another time saying the same is the same
            if len(on) - upto == len(own) and tuple(map(content_key, on[upto:])) == said:
                continue  # the same turns as the path it branches from
            if (fork, said) in seen:
                continue
            seen.add((fork, said))
            if upto:
                own.insert(0, on[upto - 1])
                start -= 1
                for k in path:  # positions moved by one
                    where[k] = (own, where[k][1] + 1, start)
        branches.append((start, own))
    return main, branches, main_ids
