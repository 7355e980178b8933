// Copy buttons for read-only fields: <button data-copy="FIELD-ID" hidden>.
// The buttons stay hidden without JavaScript; the field can still be
// selected and copied by hand.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  var status = document.getElementById("copy-status");
  if (!field) {
    return;
  }
  field.addEventListener("focus", function () { field.select(); });
  if (!navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      if (status) { status.textContent = "Copied."; }
    }, function () {
      field.select();
      if (status) { status.textContent = "Press Ctrl+C (or \u2318C) to copy."; }
    });
  });
});
