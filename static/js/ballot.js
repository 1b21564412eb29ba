/* Progressive enhancement of the ballot: what is left, updated as the voter picks.
 * The page works without it: "Check my choices" asks the server for the same figures. */
(function () {
  "use strict";
  var form = document.getElementById("ballot-form");
  if (!form) { return; }
  var money = new Intl.NumberFormat(form.dataset.locale || "pt-BR", { style: "currency", currency: "BRL" });

  function number(value) { return value === "" || value === undefined ? null : Number(value); }
  function fill(template, name, value) { return template.replace("{" + name + "}", value); }

  function describe(choicesLeft, budgetLeft) {
    var parts = [];
    if (budgetLeft !== null) {
      parts.push(budgetLeft >= 0
        ? fill(form.dataset.tBudgetLeft, "amount", money.format(budgetLeft / 100))
        : fill(form.dataset.tOverBudget, "amount", money.format(-budgetLeft / 100)));
    }
    if (choicesLeft !== null) { parts.push(fill(form.dataset.tChoicesLeft, "num", String(choicesLeft))); }
    return parts.join(" · ");
  }

  function picked(scope) {
    return Array.prototype.filter.call(scope.querySelectorAll("input[data-cost]"), function (input) {
      return input.checked;
    });
  }

  function spent(inputs) {
    return inputs.reduce(function (sum, input) { return sum + Number(input.dataset.cost); }, 0);
  }

  function update() {
    var all = picked(form);
    var kind = form.dataset.kind;
    var max = number(form.dataset.max);
    var budget = number(form.dataset.budget);
    var openGroups = 0;
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-group]"), function (group) {
      var chosen = picked(group);
      if (chosen.length === 0) { openGroups += 1; }
      var out = group.querySelector("[data-group-remaining]");
      if (!out) { return; }
      var groupMax = number(group.dataset.max);
      var groupBudget = number(group.dataset.budget);
      var groupLeft = groupBudget === null ? null : groupBudget - spent(chosen);
      out.textContent = describe(
        groupMax === null ? null : Math.max(groupMax - chosen.length, 0),
        groupLeft
      );
      // Over the budget stands out, as in the page the server renders (<strong>).
      out.classList.toggle("over-budget", groupLeft !== null && groupLeft < 0);
    });
    var left = max === null ? null : Math.max(max - all.length, 0);
    if (kind === "one-per-region") { left = left === null ? openGroups : Math.min(openGroups, left); }
    var total = form.querySelector("[data-total-remaining]");
    if (total) {
      var budgetLeft = budget === null ? null : budget - spent(all);
      total.textContent = describe(left, budgetLeft);
      total.classList.toggle("over-budget", budgetLeft !== null && budgetLeft < 0);
    }
    var count = form.querySelector("[data-total-chosen]");
    if (count) { count.textContent = fill(form.dataset.tChosen, "num", String(all.length)); }
  }

  form.addEventListener("change", update);
}());
