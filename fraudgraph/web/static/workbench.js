// The workbench's only script: before an action is applied, show what it changes (from the
// /api/.../preview endpoint). Text is inserted with textContent, never as HTML.
"use strict";
function money(v) {
  return v === null || v === undefined ? "" : Number(v).toLocaleString("en", {minimumFractionDigits: 2, maximumFractionDigits: 2});
}
function showPreview(box, answer) {
  box.textContent = "";
  const head = document.createElement("p");
  const n = answer.accounts.length;
  head.textContent = answer.changed + " of " + n + " account(s) change status or credit limit" + (answer.note ? "; " + answer.note : "") + ".";
  box.appendChild(head);
  const list = document.createElement("ul");
  answer.accounts.filter(function (a) { return a.changes; }).slice(0, 12).forEach(function (a) {
    const li = document.createElement("li");
    li.textContent = a.account_id + ": " + a.status + " → " + a.new_status + ", limit " + money(a.credit_limit) + " → " + money(a.new_credit_limit);
    list.appendChild(li);
  });
  if (answer.changed > 12) {
    const li = document.createElement("li");
    li.textContent = "… and " + (answer.changed - 12) + " more";
    list.appendChild(li);
  }
  box.appendChild(list);
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.actions").forEach(function (form) {
    const box = form.querySelector(".preview");
    form.querySelectorAll("input[name=action]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        box.textContent = "Checking what this changes…";
        fetch(form.dataset.preview + "?action=" + encodeURIComponent(radio.value), {headers: {Accept: "application/json"}})
          .then(function (r) { return r.json(); })
          .then(function (answer) {
            if (answer.error) { box.textContent = answer.error; } else { showPreview(box, answer); }
          })
          .catch(function () { box.textContent = "Preview unavailable."; });
      });
    });
  });
});
