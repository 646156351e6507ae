// A ticket's page: new messages appear without reloading (polled every 3 s), the canned
// replies fill the reply box, and a counter shows what is left of the 600 characters.
// Everything from the server is set with textContent, never innerHTML.
(function () {
  "use strict";
  var SENDERS = { customer: "顾客", agent: "客服", system: "系统" };
  var list = document.getElementById("history");
  var status = document.getElementById("live-status");

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function deliveryText(delivery) {
    if (delivery === "sent") { return "已送达"; }
    return "未送达（" + delivery.replace(/^refused:/, "") + "）";
  }

  function append(m) {
    if (list.querySelector('[data-message="' + Number(m.id) + '"]')) { return; }
    var item = el("li", null, "msg msg-" + m.sender);
    item.setAttribute("data-message", String(m.id));
    var meta = el("div", null, "meta");
    var who = (SENDERS[m.sender] || m.sender);
    if (m.author && m.sender !== "customer") { who += " " + m.author; }
    meta.appendChild(el("span", who, "sender"));
    meta.appendChild(el("time", m.at));
    if (m.delivery) {
      meta.appendChild(el("span", deliveryText(m.delivery),
                          m.delivery === "sent" ? "delivery" : "delivery refused"));
    }
    item.appendChild(meta);
    item.appendChild(el("div", m.body, "body"));
    var atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
    list.appendChild(item);
    if (atBottom) { list.scrollTop = list.scrollHeight; }
  }

  if (list) {
    list.scrollTop = list.scrollHeight;
    window.servicePoll({
      url: function () {
        var last = Number(list.getAttribute("data-last") || 0);
        return list.getAttribute("data-source") + "?after=" + encodeURIComponent(last);
      },
      every: 3000,
      status: status,
      liveText: "新消息会自动显示",
      forbiddenText: "没有权限查看这个工单",
      onText: function (text) {
        var last = Number(list.getAttribute("data-last") || 0);
        JSON.parse(text).forEach(function (m) {
          append(m);
          last = Math.max(last, Number(m.id));
        });
        list.setAttribute("data-last", String(last));
      }
    });
  }

  var box = document.getElementById("reply-body");
  var canned = document.getElementById("canned");
  var count = document.getElementById("reply-count");

  function showCount() {
    if (!box || !count) { return; }
    var max = Number(count.getAttribute("data-max") || 600);
    count.textContent = Array.from(box.value).length + " / " + max;
  }

  if (canned && box) {
    canned.addEventListener("change", function () {
      if (!canned.value) { return; }
      box.value = box.value ? box.value + canned.value : canned.value;
      canned.value = "";
      box.focus();
      showCount();
    });
  }
  if (box) {
    box.addEventListener("input", showCount);
    showCount();
  }
})();
