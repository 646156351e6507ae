// The product page's 复制 button: copies the code to send in the chat (商品 <id>), which shows
// the product's card there; 买 1 then starts the order. WeChat's browser cannot open the chat
// with a message typed in, so copying is the shortest way. Without this script the code is
// still there to long-press (it selects whole).
(function () {
  var button = document.getElementById("copy-code");
  var done = document.getElementById("copy-done");
  if (!button || !done) return;
  var code = button.getAttribute("data-code");

  function tell(text) {
    done.textContent = text;
    done.hidden = false;
  }

  function copied() {
    tell("已复制「" + code + "」：回到公众号对话，粘贴后发送即可。");
  }

  function failed() {
    tell("无法自动复制，请长按上面的「" + code + "」复制，或直接输入后发送。");
  }

  function copyByHand() {
    var field = document.createElement("textarea");
    field.value = code;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    field.setSelectionRange(0, code.length);
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    document.body.removeChild(field);
    return ok;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(copied, function () {
        if (copyByHand()) copied(); else failed();
      });
    } else if (copyByHand()) {
      copied();
    } else {
      failed();
    }
  });
})();
