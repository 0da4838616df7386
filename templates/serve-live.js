// quizgen serve: reload this page when the project is rebuilt; size each card frame to its card.
(() => {
  const version = document.documentElement.dataset.version;
  const events = new EventSource("/_quizgen/events");
  events.onmessage = (event) => {
    if (event.data !== version) location.reload();
  };
  const fit = (frame) => {
    try {
      const body = frame.contentDocument.body;
      if (body) frame.style.height = body.getBoundingClientRect().height + 2 + "px";
    } catch (error) {
      /* not loaded yet */
    }
  };
  for (const frame of document.querySelectorAll("iframe.qg-fit")) {
    frame.addEventListener("load", () => fit(frame));
    fit(frame);
  }
})();
