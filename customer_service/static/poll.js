// Polling shared by the inbox and a ticket's page: fetch JSON every few seconds while the tab
// is visible, stop (and say why) when the session has ended or the role may not look.
(function () {
  "use strict";
  window.servicePoll = function (options) {
    // options: url() → string, every (ms), status (element or null), liveText,
    // forbiddenText, onText(responseText)
    var timer = null;

    function stop(text) {
      if (timer) { clearInterval(timer); timer = null; }
      if (options.status) { options.status.textContent = text; }
    }

    function poll() {
      if (document.hidden) { return; }
      fetch(options.url(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401) { throw new Error("signed_out"); }
          if (response.status === 403) { throw new Error("forbidden"); }
          if (!response.ok) { throw new Error("http"); }
          return response.text();
        })
        .then(function (text) {
          if (options.status) { options.status.textContent = options.liveText; }
          options.onText(text);
        })
        .catch(function (error) {
          if (error.message === "signed_out") { stop("登录已过期，请刷新页面重新登录"); }
          else if (error.message === "forbidden") { stop(options.forbiddenText); }
          else if (options.status) { options.status.textContent = "刷新失败，稍后重试…"; }
        });
    }

    if (window.fetch) { timer = setInterval(poll, options.every); }
  };
})();
