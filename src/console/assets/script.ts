/**
 * The console's only script, served from /console/assets (the CSP allows no inline script). Every
 * flow works without it; it only adds conveniences: copy buttons for one-time secrets.
 */
export const SCRIPT = `
(function () {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value).then(function () {
        button.textContent = "Copied";
        const status = document.getElementById(button.getAttribute("data-copy") + "-status");
        if (status) status.textContent = "Copied to the clipboard.";
      });
    });
  }
})();
`;
