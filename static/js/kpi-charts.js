/*
 * KPI charts (templates/kpi/): draws every <canvas data-kpi-chart="ID"> from the chart
 * data the page carries in <script type="application/json" id="kpi-chart-data"> (Django's
 * json_script: data, never code, so the Content-Security-Policy stays 'self' only).
 *
 * Readable without colour: every series has its own point style and dash pattern, a
 * target is a dashed line marked in the legend, each canvas has an aria-label, and the
 * same figures stand in a table beside the chart (the accessible alternative).
 *
 * Chart data: {ID: {kind: "line"|"bar", title, unit: "%"|"kr."|"", labels: [...],
 *                   series: [{label, values: [number|null], target: bool}]}}
 */
(function () {
  "use strict";

  var POINT_STYLES = ["circle", "triangle", "rect", "rectRot", "star", "crossRot"];
  var DASHES = [[], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 2]];
  // Dark, distinct greys and blues: contrast on white, and colour is never the only cue.
  var COLOURS = ["#1d4ed8", "#374151", "#7c2d12", "#166534", "#6b21a8", "#0f766e"];
  var TARGET_COLOUR = "#9b1c1c";

  // Money on axes and in tooltips reads as the headline figures do (rfi/formatting.py):
  // "98,3 mio. kr.", "1,6 mia. kr." ("DKK 98.3 m", "DKK 1.6 bn"); the words come from the
  // page (<script id="chart-money-words">, the rfi_format tag chart_money_words).
  function moneyWords() {
    var source = document.getElementById("chart-money-words");
    return source ? JSON.parse(source.textContent) : null;
  }

  function compactMoney(words) {
    var lang = words.lang || document.documentElement.lang || "da";
    var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    // Axis ticks are round numbers: "800 mio. kr.", "1,2 mia. kr." (no ",0").
    var tenths = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    return function (value) {
      var size = Math.abs(value);
      // The scale is chosen after rounding, so 999.96 million reads "1,0 mia. kr."
      if (Math.round(size / 1e5) / 10 >= 1000) {
        return words.billion.replace("{}", tenths.format(value / 1e9));
      }
      if (Math.round(size) >= 1e6) {
        return words.million.replace("{}", tenths.format(value / 1e6));
      }
      return words.plain.replace("{}", whole.format(value === 0 ? 0 : value));
    };
  }

  function formatter(unit) {
    var lang = document.documentElement.lang || "da";
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: unit === "kr." ? 0 : 1 });
    var words = unit === "kr." ? moneyWords() : null;
    var money = words ? compactMoney(words) : null;
    return function (value) {
      if (value === null || value === undefined || isNaN(value)) {
        return "–";
      }
      if (money) {
        return money(value);
      }
      var text = number.format(value);
      if (unit === "%") {
        return text + " %";
      }
      if (unit === "kr.") {
        return text + " kr.";
      }
      return text;
    };
  }

  function dataset(series, index, kind) {
    var colour = series.target ? TARGET_COLOUR : COLOURS[index % COLOURS.length];
    var common = {
      label: series.label,
      data: series.values,
      borderColor: colour,
      backgroundColor: colour,
      pointStyle: series.target ? "line" : POINT_STYLES[index % POINT_STYLES.length],
      borderDash: series.target ? [6, 6] : DASHES[index % DASHES.length],
      pointRadius: series.target ? 0 : 4,
      spanGaps: false,
    };
    if (kind === "bar" && !series.target) {
      common.type = "bar";
      common.backgroundColor = colour + "cc";
      common.borderWidth = 1;
      common.order = 2;
    } else {
      common.type = "line";
      common.fill = false;
      common.borderWidth = 2;
      common.order = 1;
    }
    return common;
  }

  function draw(canvas, spec) {
    var format = formatter(spec.unit);
    var chart = new window.Chart(canvas, {
      type: spec.kind === "bar" ? "bar" : "line",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          return dataset(series, index, spec.kind);
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format(item.parsed.y);
              },
            },
          },
        },
        scales: {
          y: { beginAtZero: true, ticks: { callback: format } },
        },
      },
    });
    canvas.setAttribute("data-rendered", "true");
    return chart;
  }

  function start() {
    var source = document.getElementById("kpi-chart-data");
    if (!source || !window.Chart) {
      return;
    }
    var specs = JSON.parse(source.textContent);
    var canvases = document.querySelectorAll("canvas[data-kpi-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var spec = specs[canvas.getAttribute("data-kpi-chart")];
      if (spec) {
        draw(canvas, spec);
      }
    });
  }

  // Printing: let the charts take the paper's width before the page is laid out.
  window.addEventListener("beforeprint", function () {
    if (!window.Chart) {
      return;
    }
    Object.values(window.Chart.instances || {}).forEach(function (chart) {
      chart.resize();
    });
  });

  // The report's print button (no inline handlers under the CSP): shown once JS runs.
  function printButtons() {
    var buttons = document.querySelectorAll("button[data-print]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", printButtons);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
