// Words and times for the observer's scripts, in the page's language (docs/i18n.md).
//
// The server embeds the translations of every t("…") found in static/js as JSON in each
// observer page (<script type="application/json" id="fr-words">, see templates/base.html);
// an English page embeds nothing: the message ids are English. Write
//   import { t, formatTime } from "./i18n.js";
//   el.textContent = t("Sent: %(n)s reports.", { n: 3 });
// with a plain string literal inside t( … ) so that pybabel finds it.

let table = null;

function words() {
  if (table === null) {
    const node = typeof document !== "undefined" ? document.getElementById("fr-words") : null;
    try {
      table = node ? JSON.parse(node.textContent) : {};
    } catch {
      table = {};
    }
  }
  return table;
}

// The message in the page's language, its %(name)s places filled from values.
export function t(message, values = {}) {
  const text = words()[message] || message;
  return text.replace(/%\((\w+)\)[sd]/g, (all, name) => (name in values ? String(values[name]) : all));
}

function offsetLabel(date, zone) {
  try {
    const name = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(date).find((part) => part.type === "timeZoneName")?.value || "GMT";
    const match = /GMT([+-])(\d\d):(\d\d)/.exec(name);
    if (!match) return "UTC";
    const minutes = match[3] === "00" ? "" : `:${match[3]}`;
    return `UTC${match[1]}${Number(match[2])}${minutes}`;
  } catch {
    return "UTC";
  }
}

// The one date format of every page: "3 Dec 2026, 14:05 (UTC+2)", month in the page's
// language, in the mission's time zone (the server's fieldreport/web/dates.py writes the same).
export function formatTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const zone = document.body?.dataset.timeZone || "UTC";
  const language = document.documentElement.lang || "en";
  const parts = new Intl.DateTimeFormat(language, {
    timeZone: zone, day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(date);
  const part = (type) => parts.find((item) => item.type === type)?.value || "";
  return `${part("day")} ${part("month")} ${part("year")}, ${part("hour")}:${part("minute")} (${offsetLabel(date, zone)})`;
}

if (typeof window !== "undefined") window.FR_T = t;
