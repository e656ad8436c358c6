// A small syntax highlighter: comments, strings, keywords and numbers for common
// languages. It returns DOM nodes built with textContent, never HTML.

const C_LIKE_KW = "if else for while do switch case break continue return function var let const new delete " +
  "class extends super this null true false try catch finally throw typeof instanceof import export from as " +
  "default void static public private protected interface enum struct namespace using async await yield in of " +
  "int long short char float double bool boolean string byte unsigned signed auto final abstract override virtual " +
  "package func go defer chan map type range select fn let mut impl trait pub crate mod use match where self Self " +
  "nil undefined";

const LANGS = {
  c: { kw: C_LIKE_KW, line: "//", block: true, strings: `"'` },
  js: { kw: C_LIKE_KW, line: "//", block: true, strings: "\"'`" },
  python: {
    kw: "and as assert async await break class continue def del elif else except False finally for from global if " +
      "import in is lambda None nonlocal not or pass raise return True try while with yield match case self print",
    line: "#", triple: true, strings: `"'`,
  },
  shell: {
    kw: "if then else elif fi for while do done case esac in function return export local echo exit set unset cd " +
      "source alias sudo",
    line: "#", strings: `"'`,
  },
  ruby: { kw: "def end if elsif else unless while until do class module return yield nil true false self require puts", line: "#", strings: `"'` },
  sql: {
    kw: "select from where insert into values update set delete create table drop alter add index primary key " +
      "foreign references join left right inner outer on group by order having limit offset as and or not null " +
      "is in like distinct union all count sum avg min max case when then else end with",
    line: "--", block: true, strings: "'\"", nocase: true,
  },
  json: { kw: "true false null", strings: `"` },
  yaml: { kw: "true false null yes no", line: "#", strings: `"'` },
  css: { kw: "important", block: true, strings: `"'` },
  html: { kw: "", html: true, strings: `"'` },
};

const ALIASES = {
  javascript: "js", jsx: "js", ts: "js", tsx: "js", typescript: "js", mjs: "js",
  py: "python", python3: "python",
  sh: "shell", bash: "shell", zsh: "shell", console: "shell", powershell: "shell", ps1: "shell",
  rb: "ruby", postgres: "sql", postgresql: "sql", mysql: "sql", sqlite: "sql",
  yml: "yaml", toml: "yaml", ini: "yaml",
  xml: "html", svg: "html", vue: "html",
  scss: "css", less: "css",
  java: "c", cpp: "c", "c++": "c", cc: "c", h: "c", csharp: "c", cs: "c", "c#": "c", go: "c", golang: "c",
  rust: "c", rs: "c", swift: "c", kotlin: "c", kt: "c", php: "c", scala: "c", dart: "c", objc: "c",
};

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
const compiled = new Map();

function grammar(lang) {
  const name = ALIASES[lang] || lang;
  const spec = LANGS[name];
  if (!spec) return null;
  if (compiled.has(name)) return compiled.get(name);
  const parts = [];
  // Each pattern also ends at the end of the code: an opening that never closed would otherwise look
  // for its end again from every later opening (quadratic in crafted code).
  if (spec.html) parts.push("(?<comment><!--[\\s\\S]*?(?:-->|$))", "(?<keyword></?[A-Za-z][\\w:-]*|/?>)");
  if (spec.block) parts.push("(?<comment>/\\*[\\s\\S]*?(?:\\*/|$))");
  if (spec.line) parts.push(`(?<comment>${esc(spec.line)}.*)`);
  if (spec.triple) parts.push(`(?<string>"""[\\s\\S]*?(?:"""|$)|'''[\\s\\S]*?(?:'''|$))`);
  for (const q of spec.strings) {
    const e = esc(q);
    parts.push(`(?<string>${e}(?:\\\\[\\s\\S]|(?!${e})[^\\\\${q === "`" ? "" : "\\n"}])*(?:${e}|$))`);
  }
  parts.push("(?<number>\\b(?:0x[\\da-fA-F]+|\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)\\b)");
  if (spec.kw) parts.push(`(?<keyword>\\b(?:${spec.kw.split(" ").map(esc).join("|")})\\b)`);
  // Named groups must be unique: number each occurrence and remember its class.
  const classes = [];
  const source = parts.map((p) => p.replace(/\(\?<(\w+)>/g, (_, cls) => {
    classes.push(cls);
    return `(?<g${classes.length - 1}>`;
  })).join("|");
  const g = { re: new RegExp(source, spec.nocase ? "gi" : "g"), classes };
  compiled.set(name, g);
  return g;
}

// Fills `code` (a <code> element) with the highlighted text of `source`.
export function highlight(code, source, lang) {
  const g = grammar((lang || "").toLowerCase());
  if (!g || source.length > 200_000) {
    code.textContent = source;
    return;
  }
  let last = 0;
  for (const m of source.matchAll(g.re)) {
    if (!m[0]) continue;
    if (m.index > last) code.append(source.slice(last, m.index));
    const i = Object.keys(m.groups).find((k) => m.groups[k] !== undefined);
    const span = document.createElement("span");
    span.className = "tok-" + g.classes[Number(i.slice(1))];
    span.textContent = m[0];
    code.append(span);
    last = m.index + m[0].length;
  }
  if (last < source.length) code.append(source.slice(last));
}
