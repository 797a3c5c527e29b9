// The KPI dashboard's charts: data from the page's json_script block (no inline script).
document.addEventListener("DOMContentLoaded", () => {
  // Picking dates makes the period custom; picking a named period drops the dates.
  const form = document.getElementById("period-form");
  if (form) {
    const select = form.querySelector("select[name=period]");
    form.querySelectorAll("input[type=date]").forEach((input) => {
      input.addEventListener("change", () => { select.value = "custom"; });
    });
    select.addEventListener("change", () => {
      if (select.value !== "custom") {
        form.querySelectorAll("input[type=date]").forEach((input) => { input.disabled = true; });
        form.requestSubmit();
      }
    });
  }
  const source = document.getElementById("kpi-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const small = { responsive: false, animation: false };

  document.querySelectorAll("canvas[data-spark]").forEach((canvas) => {
    const points = data.sparks[canvas.dataset.spark] || [];
    new Chart(canvas, {
      type: "line",
      data: { labels: points.map((_, i) => i), datasets: [{ data: points, borderWidth: 1.5, pointRadius: 0, spanGaps: true }] },
      options: { ...small, plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false } } },
    });
  });

  document.querySelectorAll("canvas[data-trend]").forEach((canvas) => {
    const trend = data.trends[Number(canvas.dataset.trend)];
    const datasets = [{ label: trend.label, data: trend.data, spanGaps: true, tension: 0.2 }];
    if (trend.reference) {
      // Industry range (PRODUCT.md): two dashed lines.
      trend.reference.forEach((value, i) => datasets.push({
        label: i === 0 ? "Industry low" : "Industry high",
        data: data.months.map(() => value), borderDash: [6, 4], borderWidth: 1, pointRadius: 0,
        borderColor: "#6c757d",
      }));
    }
    new Chart(canvas, { type: "line", data: { labels: data.months, datasets }, options: { ...small } });
  });

  const aging = document.getElementById("aging-chart");
  if (aging) {
    const datasets = [{ label: "Payer", data: data.aging.payer, backgroundColor: "#0d6efd" }];
    if (data.aging.patient) datasets.push({ label: "Patient", data: data.aging.patient, backgroundColor: "#fd7e14" });
    new Chart(aging, {
      type: "bar",
      data: { labels: data.aging.labels, datasets },
      options: { ...small, scales: { x: { stacked: true }, y: { stacked: true } } },
    });
  }
  const denials = document.getElementById("denials-chart");
  if (denials) {
    new Chart(denials, {
      type: "bar",
      data: { labels: data.denials.labels, datasets: [{ label: "Denied amount", data: data.denials.amounts, backgroundColor: "#dc3545" }] },
      options: { ...small, indexAxis: "y", plugins: { legend: { display: false } } },
    });
  }
});
