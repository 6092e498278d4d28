// Submits the SAML HTTP-POST binding form at once; without JavaScript the user presses the button.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("saml-post");
  if (form && form.dataset.auto === "1") {
    form.submit();
  }
});
