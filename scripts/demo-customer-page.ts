// The page of `npm run demo` where you play the customer: it writes to the demo bot through the
// fake Telegram and shows the bot's replies (your answers from the inbox).

export const customerPage = (botName: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer chat: ${botName}</title>
<style>
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: #eef1f4; color: #1c1f23; }
  main { max-width: 32rem; margin: 0 auto; min-height: 100vh; display: flex; flex-direction: column; background: #fff; }
  header { padding: .8rem 1rem; border-bottom: 1px solid #e2e5e9; }
  header h1 { margin: 0; font-size: 1rem; }
  header p { margin: .2rem 0 0; color: #646b75; font-size: .85rem; }
  label { font-size: .85rem; font-weight: 600; }
  input, textarea, button { font: inherit; }
  .who { display: flex; gap: .5rem; padding: .6rem 1rem; border-bottom: 1px solid #e2e5e9; align-items: center; }
  .who input { flex: 1; padding: .35rem .5rem; border: 1px solid #d0d5db; border-radius: 6px; }
  ol { list-style: none; margin: 0; padding: 1rem; flex: 1; display: flex; flex-direction: column; gap: .4rem; overflow-y: auto; }
  li { max-width: 80%; padding: .45rem .7rem; border-radius: 12px; white-space: pre-wrap; }
  li.me { align-self: flex-end; background: #3390ec; color: #fff; }
  li.bot { align-self: flex-start; background: #f1f3f5; }
  form { display: flex; gap: .5rem; padding: .6rem 1rem 1rem; border-top: 1px solid #e2e5e9; }
  textarea { flex: 1; resize: none; padding: .5rem; border: 1px solid #d0d5db; border-radius: 8px; }
  .attach { display: grid; place-items: center; width: 2.2rem; cursor: pointer; font-size: 1.2rem; }
  .attach input { position: absolute; width: 1px; height: 1px; opacity: 0; }
  li img { display: block; max-width: 100%; border-radius: 8px; }
  li a { color: inherit; }
  button { padding: 0 1rem; border: 0; border-radius: 8px; background: #3390ec; color: #fff; font-weight: 600; cursor: pointer; }
</style>
</head>
<body>
<main>
  <header><h1>${botName}</h1><p>You are the customer here. Your messages reach the inbox through the demo bot.</p></header>
  <div class="who"><label for="name">Your name</label><input id="name" value="Jamie Rivera" autocomplete="off"></div>
  <ol id="log" aria-label="Chat" aria-live="polite"></ol>
  <form id="form"><label class="attach" title="Send a photo or a file">📎<input id="file" type="file" aria-label="Send a photo or file"></label><textarea id="text" rows="2" aria-label="Message" placeholder="Write a message… (Enter sends; with a file, its caption)"></textarea><button>Send</button></form>
</main>
<script>
const $ = (id) => document.getElementById(id);
$("name").value = localStorage.getItem("demo-name") || $("name").value;
$("name").addEventListener("change", () => { localStorage.setItem("demo-name", $("name").value); refresh(); });
async function refresh() {
  const res = await fetch("/messages?name=" + encodeURIComponent($("name").value.trim()));
  const items = await res.json();
  const log = $("log");
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(...items.map((m) => {
    const li = document.createElement("li");
    li.className = m.from;
    if (m.file && m.file.image) {
      const img = document.createElement("img");
      img.src = m.file.url;
      img.alt = m.file.name;
      li.append(img);
    } else if (m.file) {
      const a = document.createElement("a");
      a.href = m.file.url;
      a.download = m.file.name;
      a.textContent = "📎 " + m.file.name;
      li.append(a, document.createElement("br"));
    }
    li.append(m.text);
    return li;
  }));
  if (atEnd) log.scrollTop = log.scrollHeight;
}
async function send(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  await fetch("/send", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: $("name").value.trim() || "Jamie Rivera", text }) });
  refresh();
}
async function sendFile(file) {
  const data = await new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.readAsDataURL(file);
  });
  const size = await new Promise((resolve) => {
    if (!file.type.startsWith("image/")) return resolve({});
    const img = new Image();
    img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => resolve({});
    img.src = URL.createObjectURL(file);
  });
  const text = $("text").value.trim();
  $("text").value = "";
  const res = await fetch("/send", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: $("name").value.trim() || "Jamie Rivera", text,
      file: { name: file.name, type: file.type, data, ...size } }) });
  if (!res.ok) alert("That file is too big for this demo (10 MB at most).");
  refresh();
}
$("file").addEventListener("change", () => { const f = $("file").files[0]; $("file").value = ""; if (f) sendFile(f); });
$("form").addEventListener("submit", send);
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) send(e); });
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>`;
