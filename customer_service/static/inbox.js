// The inbox's queue, refreshed every 5 s from queue.json. Everything from the server is set
// with textContent (never innerHTML), so a customer's words cannot become markup.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table || !window.fetch) { return; }
  var source = table.getAttribute("data-source");
  var status = document.getElementById("queue-status");
  var tokenInput = document.querySelector('input[name="csrf_token"]');
  var csrf = tokenInput ? tokenInput.value : "";
  var lastSeen = "";

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function link(href, text) {
    var a = el("a", text);
    a.setAttribute("href", href);
    return a;
  }

  function claimForm(url) {
    var form = el("form", null, "inline");
    form.method = "post";
    form.setAttribute("action", url);
    var token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    form.appendChild(token);
    var button = el("button", "接入");
    button.type = "submit";
    form.appendChild(button);
    return form;
  }

  function row(t) {
    var tr = el("tr", null, "priority-" + t.priority + (t.overdue ? " overdue" : ""));
    tr.setAttribute("data-ticket", String(t.id));
    var first = el("td");
    first.appendChild(link(t.url, "#" + t.id));
    tr.appendChild(first);
    tr.appendChild(el("td", t.openid, "openid"));
    var priority = el("td");
    priority.appendChild(el("span", t.priority_label, "badge priority-" + t.priority));
    if (t.priority_reason) {
      priority.appendChild(el("br"));
      priority.appendChild(el("span", t.priority_reason, "muted"));
    }
    tr.appendChild(priority);
    tr.appendChild(el("td", t.state_label));
    tr.appendChild(el("td", t.age));
    tr.appendChild(el("td", t.sla, "sla"));
    tr.appendChild(el("td", t.agent || "—"));
    var snippet = el("td", null, "snippet");
    if (t.last_sender) { snippet.appendChild(el("span", t.last_sender + "：", "muted")); }
    snippet.appendChild(document.createTextNode(t.last));
    tr.appendChild(snippet);
    var action = el("td");
    action.appendChild(t.claim_url ? claimForm(t.claim_url) : link(t.url, "查看"));
    tr.appendChild(action);
    return tr;
  }

  function render(data) {
    Object.keys(data.stats).forEach(function (key) {
      var figure = document.querySelector('[data-stat="' + key + '"]');
      if (figure) { figure.textContent = String(data.stats[key]); }
    });
    var body = document.createElement("tbody");
    if (data.tickets.length === 0) {
      var empty = el("td", "没有工单", "empty");
      empty.colSpan = 9;
      body.appendChild(el("tr")).appendChild(empty);
    }
    data.tickets.forEach(function (t) { body.appendChild(row(t)); });
    table.replaceChild(body, table.tBodies[0]);
  }

  window.servicePoll({
    url: function () { return source; },
    every: 5000,
    status: status,
    liveText: "每 5 秒自动刷新",
    forbiddenText: "没有权限查看工单",
    onText: function (text) {
      if (text === lastSeen) { return; }
      lastSeen = text;
      render(JSON.parse(text));
    }
  });
})();
