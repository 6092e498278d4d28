// Beheer: a button marked data-print prints the page (the print stylesheet leaves out the forms).
// A script file rather than an inline handler, which the Content-Security-Policy forbids.
document.querySelectorAll("button[data-print]").forEach(function (button) {
  button.addEventListener("click", function () {
    window.print();
  });
});
