// billing-ops page behaviour (no inline scripts: the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Practice switcher: switch as soon as a practice is chosen.
  const select = document.getElementById("practice-select");
  if (select) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // Confirm dangerous actions (forms marked data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
// "/" anywhere (outside a field) goes to the header's search box.
const typing = (event) => {
  const tag = (event.target.tagName || "").toLowerCase();
  return ["input", "textarea", "select"].includes(tag) || event.target.isContentEditable
    || event.ctrlKey || event.metaKey || event.altKey;
};
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("global-search");
  if (event.key === "/" && box && !typing(event)) { event.preventDefault(); box.focus(); box.select(); }
});
// HTMX requests carry the CSRF token from the cookie-less hidden input on the page.
document.body.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) event.detail.headers["X-CSRFToken"] = token.value;
});

// Queue pages: j/k move, o/Enter open, x select, n work next.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("queue-table");
  const rows = table ? Array.from(table.querySelectorAll("tr.queue-row")) : [];
  const selected = document.getElementById("selected-count");
  const updateSelected = () => {
    if (selected) selected.textContent = table.querySelectorAll("input[name=items]:checked").length;
  };
  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", () => {
      table.querySelectorAll("input[name=items]").forEach((box) => { box.checked = selectAll.checked; });
      updateSelected();
    });
  }
  if (table) table.addEventListener("change", updateSelected);
  let current = -1;
  const focus = (index) => {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("table-active", i === current));
    rows[current].scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
    const workNext = document.getElementById("work-next");
    if (event.key === "n" && workNext) { event.preventDefault(); workNext.click(); return; }
    if (!rows.length) return;
    if (event.key === "j") { event.preventDefault(); focus(current + 1); }
    else if (event.key === "k") { event.preventDefault(); focus(current - 1); }
    else if ((event.key === "o" || event.key === "Enter") && current >= 0) { window.location = rows[current].dataset.href; }
    else if (event.key === "x" && current >= 0) {
      const box = rows[current].querySelector("input[name=items]");
      box.checked = !box.checked;
      updateSelected();
    }
  });
});

// Claim page: f follow-up, a next action, b back to the queue; an invalid form comes back
// with the page at its first invalid field, focused.
document.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("form .is-invalid");
  if (invalid) {
    invalid.scrollIntoView({ block: "center" });
    invalid.focus();
  }
  const targets = {
    f: () => document.querySelector("#follow-up-form select, #follow-up-form input:not([type=hidden])"),
    a: () => document.querySelector("#next-action-form select"),
    b: () => document.querySelector("[data-shortcut=b]"),
  };
  if (!document.getElementById("follow-up-form") && !document.getElementById("next-action-form")) return;
  document.addEventListener("keydown", (event) => {
    if (typing(event) || !(event.key in targets)) return;
    const target = targets[event.key]();
    if (!target) return;
    event.preventDefault();
    if (target.tagName.toLowerCase() === "a") { target.click(); return; }
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
});
