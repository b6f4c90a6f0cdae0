// Progressive enhancement only: every page works without this file.
// The "since" and sort selects submit their form when changed.
"use strict";
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
