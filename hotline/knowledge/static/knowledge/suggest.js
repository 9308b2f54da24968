// The knowledge suggestion card of the intake form (knowledge/_suggest.html): "引用到答复" copies the item's
// answer into the case's answer field (appended below what is already there), then puts the cursor there.
// Loaded by the partial on every refresh; the listener is installed once.
(function () {
  if (window.hotlineKbQuote) { return; }
  window.hotlineKbQuote = true;
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-kb-quote]");
    if (!button) { return; }
    event.preventDefault();
    const form = button.closest("form") || document;
    const answer = form.querySelector("textarea[name=answer]") || document.getElementById("id_answer");
    if (!answer) { return; }
    const text = button.dataset.kbQuote.trim();
    const current = answer.value.replace(/\s+$/, "");
    if (current.indexOf(text) === -1) {
      answer.value = current ? current + "\n" + text : text;
      answer.dispatchEvent(new Event("input", { bubbles: true }));
    }
    answer.scrollIntoView({ block: "center" });
    answer.focus();
    const status = button.parentElement.querySelector("[data-kb-quote-status]");
    if (status) { status.textContent = status.dataset.done; }
  });
})();
