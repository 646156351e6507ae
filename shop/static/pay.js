// Opens WeChat's payment sheet with the parameters the server signed (JSAPI).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("pay");
  if (!button) return;
  button.addEventListener("click", function () {
    var hint = document.getElementById("hint");
    if (typeof WeixinJSBridge === "undefined") {
      hint.textContent = "请在微信中打开此页面完成支付。";
      return;
    }
    WeixinJSBridge.invoke("getBrandWCPayRequest", JSON.parse(button.dataset.params), function (res) {
      if (res.err_msg === "get_brand_wcpay_request:ok") {
        hint.textContent = "支付成功，正在刷新…";
        setTimeout(function () { location.reload(); }, 1500);
      } else if (res.err_msg !== "get_brand_wcpay_request:cancel") {
        hint.textContent = "支付没有完成，请重试。";
      }
    });
  });
});
