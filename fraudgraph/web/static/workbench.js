// The workbench's only script: before an action is applied, show what it changes (from the
// /api/.../preview endpoint). Text is inserted with textContent, never as HTML.
"use strict";
function money(v) {
  return v === null || v === undefined ? "" : Number(v).toLocaleString("en", {minimumFractionDigits: 2, maximumFractionDigits: 2});
}
function item(list, text) {
  const li = document.createElement("li");
  li.textContent = text;
  list.appendChild(li);
}
function showPreview(box, answer) {
  box.textContent = "";
  const head = document.createElement("p");
  const n = answer.accounts.length;
  head.textContent = answer.changed + " of " + n + " account(s) change action, status or credit limit" + (answer.note ? "; " + answer.note : "") + ".";
  box.appendChild(head);
  const list = document.createElement("ul");
  const changing = answer.accounts.filter(function (a) { return a.changes || a.note; });
  changing.slice(0, 12).forEach(function (a) {
    const b = a.before, f = a.after;
    item(list, a.account_id + ": " + b.action + " → " + f.action + ", " + b.status + " → " + f.status +
      ", limit " + money(b.credit_limit) + " → " + money(f.credit_limit) + (a.note ? " (" + a.note + ")" : ""));
  });
  if (changing.length > 12) { item(list, "… and " + (changing.length - 12) + " more"); }
  box.appendChild(list);
  const mates = answer.ring_mates || [];
  if (mates.length) {
    const p = document.createElement("p");
    p.className = "mates";
    p.textContent = "Ring mates this verdict touches (" + mates.length + "):";
    box.appendChild(p);
    const ml = document.createElement("ul");
    ml.className = "mates";
    mates.slice(0, 8).forEach(function (m) { item(ml, m.account_id + " (" + m.ring_id + ", " + m.in_force + " now): " + m.effect); });
    if (mates.length > 8) { item(ml, "… and " + (mates.length - 8) + " more"); }
    box.appendChild(ml);
  }
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
