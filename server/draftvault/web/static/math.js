// TeX shown as readable text: Greek letters and common symbols as Unicode,
// ^ and _ as superscript and subscript, \frac{a}{b} as a/b. Built from text nodes;
// the TeX source stays available as the element's title.

const SYMBOLS = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ", eta: "η", theta: "θ",
  iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ",
  upsilon: "υ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ",
  Lambda: "Λ", Xi: "Ξ", Pi: "Π", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
  times: "×", cdot: "·", div: "÷", pm: "±", mp: "∓", le: "≤", leq: "≤", ge: "≥", geq: "≥", neq: "≠", ne: "≠",
  approx: "≈", equiv: "≡", sim: "∼", propto: "∝", infty: "∞", partial: "∂", nabla: "∇", sum: "∑", prod: "∏",
  int: "∫", oint: "∮", sqrt: "√", in: "∈", notin: "∉", subset: "⊂", subseteq: "⊆", cup: "∪", cap: "∩",
  forall: "∀", exists: "∃", neg: "¬", land: "∧", lor: "∨", to: "→", rightarrow: "→", leftarrow: "←",
  Rightarrow: "⇒", Leftrightarrow: "⇔", mapsto: "↦", ldots: "…", cdots: "⋯", dots: "…", circ: "∘",
  langle: "⟨", rangle: "⟩", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉", quad: "  ", qquad: "    ",
  ",": " ", ";": " ", "!": "", " ": " ", "{": "{", "}": "}", "%": "%", "$": "$", "_": "_", "&": "&",
};
const DROP = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "displaystyle", "mathrm", "mathbf", "mathit",
  "mathbb", "mathcal", "text", "textbf", "textit", "operatorname", "boldsymbol", "limits"]);

// Reads one argument: {group}, \command or a single character.
function arg(src, i) {
  while (src[i] === " ") i++;
  if (src[i] === "{") {
    let depth = 0;
    for (let j = i; j < src.length; j++) {
      if (src[j] === "{") depth++;
      else if (src[j] === "}" && --depth === 0) return [src.slice(i + 1, j), j + 1];
    }
    return [src.slice(i + 1), src.length];
  }
  if (src[i] === "\\") {
    const m = /^\\([A-Za-z]+|.)/.exec(src.slice(i));
    if (m) return [m[0], i + m[0].length];
  }
  return [src[i] ?? "", i + 1];
}

export function renderTex(src, parent) {
  let text = "";
  const flush = () => {
    if (text) parent.append(text);
    text = "";
  };
  for (let i = 0; i < src.length;) {
    const c = src[i];
    if (c === "^" || c === "_") {
      const [a, next] = arg(src, i + 1);
      flush();
      const e = document.createElement(c === "^" ? "sup" : "sub");
      renderTex(a, e);
      parent.append(e);
      i = next;
    } else if (c === "\\") {
      const m = /^\\([A-Za-z]+|.)/.exec(src.slice(i));
      const name = m ? m[1] : "\\";
      i += m ? m[0].length : 1;
      if (name === "frac" || name === "dfrac" || name === "tfrac") {
        const [num, a] = arg(src, i);
        const [den, b] = arg(src, a);
        i = b;
        flush();
        const wrap = (s) => (s.length > 1 ? "(" : "");
        parent.append(wrap(num));
        renderTex(num, parent);
        parent.append((wrap(num) ? ")" : "") + "/" + wrap(den));
        renderTex(den, parent);
        if (wrap(den)) parent.append(")");
      } else if (name === "sqrt") {
        const [a, next] = arg(src, i);
        i = next;
        flush();
        parent.append("√(");
        renderTex(a, parent);
        parent.append(")");
      } else if (name in SYMBOLS) text += SYMBOLS[name];
      else if (!DROP.has(name)) text += "\\" === name ? "\n" : name; // an unknown command shows its name
    } else if (c === "{" || c === "}") i++;
    else {
      text += c;
      i++;
    }
  }
  flush();
}
