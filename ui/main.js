// Shows the product name and version as the desk app reports them (from tauri.conf.json).
(async () => {
  const app = window.__TAURI__ && window.__TAURI__.app;
  if (!app) return;
  document.getElementById("product").textContent = await app.getName();
  document.getElementById("version").textContent = await app.getVersion();
})();
