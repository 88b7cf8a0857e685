// The server's checks, run on the phone before a report is queued. The rules are data from the
// server's taxonomy (fieldreport/reports/forms.py::form_rules, embedded in the form page as
// #field-rules), so the phone cannot drift from the server; tests/test_phone_form_rules.py feeds
// many inputs to both and compares the verdicts. Parsing follows Python's int() and float().

const INT = /^[+-]?\d+(_\d+)*$/;
const FLOAT = /^[+-]?(?=\.?\d)(\d+(_\d+)*)?(\.(\d+(_\d+)*)?)?([eE][+-]?\d+(_\d+)*)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
// NUL, or a lone surrogate (cannot be stored as UTF-8).
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/;

/** The rules embedded in the page, or null on a page without them. */
export function pageRules(doc = document) {
  const node = doc.getElementById("field-rules");
  return node ? JSON.parse(node.textContent) : null;
}

/** A number the way Python reads it, or undefined when Python would refuse it. */
export function parseNumber(text, kind) {
  const t = String(text).trim();
  if (kind === "int") return INT.test(t) ? Number(t.replace(/_/g, "")) : undefined;
  const special = SPECIAL.exec(t);
  if (special) return special[2].toLowerCase() === "nan" ? NaN : (special[1] === "-" ? -Infinity : Infinity);
  return FLOAT.test(t) ? Number(t.replace(/_/g, "")) : undefined;
}

const blank = (raw) => raw === null || raw === undefined || String(raw).trim() === "";
const say = (template, values = {}) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));

/** One field's problem as a message, or "" when the value passes. */
export function checkValue(raw, rule, messages) {
  if (blank(raw)) return rule.required ? messages.required : "";
  if (typeof raw === "string" && UNSTORABLE.test(raw)) return messages.bad_text;
  if (rule.kind === "int" || rule.kind === "float") {
    const value = parseNumber(raw, rule.kind);
    if (value === undefined) return rule.kind === "int" ? messages.whole : messages.number;
    const low = rule.min ?? -Infinity;
    const high = rule.max ?? Infinity;
    if (Number.isNaN(value) || value < low || value > high) {
      if (rule.range || Number.isNaN(value) || !Number.isFinite(value)) return say(messages.range, rule);
      return value < low ? say(messages.min, rule) : say(messages.max, rule);
    }
    return "";
  }
  const text = String(raw).trim();
  if (rule.kind === "choice" && !rule.choices.includes(text)) return messages.choice;
  if (rule.max_length !== undefined && text.length > rule.max_length) return say(messages.long, { max: rule.max_length });
  return "";
}

function checkDetails(body, rules, errors) {
  const category = rules.categories[body.category];
  const names = category?.subs[body.subcategory];
  if (!names) return;
  for (const name of names) {
    const problem = checkValue(body.details?.[name], category.fields[name], rules.messages);
    if (problem) errors[`details.${name}`] = problem;
  }
}

function checkAttribution(body, rules, errors) {
  const m = rules.messages;
  const party = (body.attribution_party || "").trim();
  const confidence = (body.attribution_confidence || "").trim();
  if (party && !rules.parties.includes(party)) errors.attribution_party = m.choice;
  if (confidence && !rules.confidence.includes(confidence)) errors.attribution_confidence = m.choice;
  else if (party && rules.parties.includes(party) && !confidence) errors.attribution_confidence = m.confidence;
}

/** Every problem in a report body (the shape report-form.js sends), by the server's field names. */
export function check(body, rules) {
  const m = rules.messages;
  const errors = {};
  const category = (body.category || "").trim();
  if (!category) errors.category = m.required;
  else if (!rules.categories[category]) errors.category = m.choice;
  else if (!Object.hasOwn(rules.categories[category].subs, body.subcategory ?? "")) errors.subcategory = m.sub;
  for (const [name, rule] of Object.entries(rules.position)) {
    const problem = checkValue(body[name], { ...rule, range: name !== "accuracy_m" }, m);
    if (problem) errors[name] = problem;
  }
  const basis = (body.basis || "").trim();
  if (!basis) errors.basis = m.required;
  else if (!rules.basis.includes(basis)) errors.basis = m.choice;
  checkAttribution(body, rules, errors);
  const narrative = typeof body.narrative === "string" ? body.narrative : "";
  if (UNSTORABLE.test(narrative)) errors.narrative = m.bad_text;
  else if (narrative.length > rules.narrative_max) errors.narrative = say(m.long, { max: rules.narrative_max });
  else if (rules.narrative_required.includes(category) && !narrative.trim()) errors.narrative = m.narrative;
  checkDetails(body, rules, errors);
  return errors;
}

// ---- showing problems beside their fields ---------------------------------------------------
const errorId = (key) => `err-${key.replace(/\./g, "-")}`;

/** The element that holds a field (a [data-field] wrapper), in the category's own fieldset. */
function holder(form, key, category) {
  const scoped = form.querySelector(`fieldset.details[data-category="${category}"] [data-field="${key}"]`);
  return scoped || form.querySelector(`[data-field="${key}"]`);
}

/** Clear old messages, then put each one beside its field, tied to it for screen readers. */
export function showErrors(form, errors, category = "") {
  for (const old of form.querySelectorAll("p.error-text[id^='err-']")) old.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
  let first = null;
  for (const [key, message] of Object.entries(errors)) {
    const box = holder(form, key, category);
    if (!box) continue;
    const note = document.createElement("p");
    note.className = "error-text";
    note.id = errorId(key);
    note.textContent = message;
    box.append(note);
    for (const input of box.querySelectorAll("input,select,textarea")) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
    }
    first ??= box.querySelector("input,select,textarea");
  }
  return first;
}
