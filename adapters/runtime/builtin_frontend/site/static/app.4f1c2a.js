// Talks to the built-in runtime over the Streamlit WebSocket subprotocol, and resumes
// the same session after a dropped connection (the id goes in the third slot).
(() => {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const base = window.location.pathname.replace(/\/[^/]*$/, "");
  let sessionId = null;
  let socket = null;

  function show(line) {
    log.textContent = (line + "\n" + log.textContent).slice(0, 4000);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const offer = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"];
    if (sessionId) offer.push(sessionId);
    socket = new WebSocket(`${scheme}://${window.location.host}${base}/_stcore/stream`, offer);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { status.textContent = "connected"; };
    socket.onmessage = (event) => {
      const text = new TextDecoder().decode(event.data);
      if (text.startsWith("hello ")) sessionId = text.split(" ")[1];
      show(text);
    };
    socket.onclose = (event) => {
      status.textContent = `disconnected (${event.code}); reconnecting…`;
      setTimeout(connect, 1000);
    };
  }

  const send = (text) => socket && socket.readyState === 1 && socket.send(new TextEncoder().encode(text));
  document.getElementById("inc").onclick = () => send("inc");
  document.getElementById("send").onclick = () => send(document.getElementById("text").value);
  connect();
})();
