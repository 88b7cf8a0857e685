// Progressive help for the report form: position, time offset, category fields, photo previews.
// The form works without any of this.
const form = document.getElementById("report-form");
if (form) {
  const $ = (name) => form.elements.namedItem(name);
  const warnAbove = Number(form.dataset.accuracyWarning || 100);
  const status = document.getElementById("locate-status");
  const locate = document.getElementById("locate");

  const setOffset = () => {
    const local = $("occurred_local").value;
    const when = local ? new Date(local) : new Date();
    if (!Number.isNaN(when.getTime())) $("tz_offset").value = String(-when.getTimezoneOffset());
  };
  $("occurred_local").addEventListener("change", setOffset);
  setOffset();

  const showCategory = () => {
    const category = $("category").value;
    for (const set of form.querySelectorAll("fieldset.details")) {
      set.hidden = set.dataset.category !== category;
    }
    for (const group of $("subcategory").querySelectorAll("optgroup")) {
      group.hidden = Boolean(category) && group.dataset.category !== category;
    }
  };
  $("category").addEventListener("change", showCategory);
  showCategory();

  if ("geolocation" in navigator) {
    locate.hidden = false;
    const fill = (position) => {
      const { latitude, longitude, accuracy } = position.coords;
      $("latitude").value = latitude.toFixed(6);
      $("longitude").value = longitude.toFixed(6);
      $("accuracy_m").value = Math.round(accuracy);
      $("position_source").value = "gps";
      status.textContent = accuracy > warnAbove
        ? `Position is only accurate to ${Math.round(accuracy)} m: check it, or type it in.`
        : `Position found (± ${Math.round(accuracy)} m).`;
      status.className = accuracy > warnAbove ? "warning" : "meta";
    };
    const ask = () => {
      status.textContent = "Finding your position…";
      navigator.geolocation.getCurrentPosition(fill, (error) => {
        status.textContent = `No position (${error.message}). Type it in.`;
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    };
    locate.addEventListener("click", ask);
    if (!$("latitude").value) ask();
  }
  for (const name of ["latitude", "longitude"]) {
    $(name).addEventListener("input", () => { $("position_source").value = "manual"; });
  }

  const previews = document.getElementById("previews");
  $("photos").addEventListener("change", () => {
    previews.replaceChildren();
    for (const file of $("photos").files) {
      const img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = () => URL.revokeObjectURL(img.src);
      previews.append(img);
    }
  });
}
