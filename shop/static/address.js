// 使用微信收货地址: wx.config with the server's signature, then openAddress; the picked address
// is posted back to this page's URL, checked there, and kept for the chat.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("pick");
  var result = document.getElementById("result");
  if (!button) return;
  if (typeof wx === "undefined") {
    result.textContent = "请在微信中打开此页面，或回到聊天直接发送地址。";
    return;
  }
  var config = JSON.parse(button.dataset.config);
  wx.config(config);
  wx.error(function () {
    result.textContent = "无法读取微信地址，请回到聊天直接发送地址。";
  });
  button.addEventListener("click", function () {
    wx.openAddress({
      success: function (picked) {
        fetch(location.href, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(picked),
          credentials: "same-origin"
        }).then(function (response) { return response.json(); }).then(function (answer) {
          result.textContent = answer.error || ("已选择：" + answer.address + "。" + answer.next);
        }).catch(function () {
          result.textContent = "提交失败，请重试，或回到聊天直接发送地址。";
        });
      }
    });
  });
});
