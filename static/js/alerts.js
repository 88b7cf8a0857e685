// Spot-report alerts on every page of coordinators and admins (templates/alerts/_banner.html).
// Polls the open alerts every 20 s; a new one shows the banner at once and beeps (WebAudio,
// only once the page has had a user gesture: browsers refuse sound before that, and the banner
// is shown either way). "I take it" acknowledges; alerts taken by another show who took them.
const POLL_MS = 20000;
let audio = null;
let seen = null;

function unlockSound() {
  if (audio) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context) audio = new Context();
}

function beep(banner) {
  if (!audio) return; // no gesture yet: the browser would refuse the sound; the banner shows
  if (audio.state === "suspended") audio.resume();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.4);
  banner.dataset.beeps = String(Number(banner.dataset.beeps || 0) + 1);
}

function item(banner, alert, taken) {
  const li = document.createElement("li");
  li.dataset.alert = alert.id;
  const link = document.createElement("a");
  link.href = alert.report_url;
  link.textContent = `${banner.dataset.title}: ${alert.what} · ${alert.where} · ${alert.raised_at}`;
  li.append(link);
  if (taken) {
    const who = document.createElement("span");
    who.className = "meta taken";
    who.textContent = ` ${banner.dataset.taken} ${alert.acknowledged_by}`;
    li.append(who);
  } else {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = banner.dataset.take;
    button.addEventListener("click", () => take(banner, alert));
    li.append(button);
  }
  return li;
}

async function take(banner, alert) {
  const response = await fetch(alert.acknowledge_url, {
    method: "POST",
    headers: { "X-CSRFToken": banner.dataset.csrf, Accept: "application/json" },
    credentials: "same-origin",
  });
  if (response.ok) await poll(banner);
}

let shown = "";

function render(banner, data) {
  // role="alert" reads changes aloud: redraw only when something changed, not every poll.
  const signature = JSON.stringify([data.alerts, data.taken.map((a) => a.id)]);
  if (signature === shown) return;
  shown = signature;
  const list = banner.querySelector(".alert-items");
  list.replaceChildren(
    ...data.alerts.map((a) => item(banner, a, false)),
    ...data.taken.filter((a) => seen && seen.has(`open-${a.id}`)).map((a) => item(banner, a, true)),
  );
  banner.hidden = list.children.length === 0;
}

async function poll(banner) {
  let data;
  try {
    const response = await fetch(banner.dataset.feed, { credentials: "same-origin" });
    if (!response.ok) return;
    data = await response.json();
  } catch {
    return; // offline for a moment: the next poll tries again
  }
  const fresh = data.alerts.some((a) => seen && !seen.has(`open-${a.id}`));
  render(banner, data);
  seen = new Set([...(seen || []), ...data.alerts.map((a) => `open-${a.id}`)]);
  if (fresh) beep(banner);
  banner.dataset.polled = String(Number(banner.dataset.polled || 0) + 1);
}

export function init() {
  const banner = document.getElementById("alert-banner");
  if (!banner) return;
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, unlockSound, { once: true, capture: true });
  }
  const interval = Number(banner.dataset.pollMs || POLL_MS);
  poll(banner);
  setInterval(() => poll(banner), interval);
}

init();
