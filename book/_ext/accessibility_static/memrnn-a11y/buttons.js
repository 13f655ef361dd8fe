// Accessible names that contain what the theme's buttons show (WCAG 2.5.3, label in name).
// book/_ext/accessibility.py adds this file to every page.
(() => {
  "use strict";

  // The search field shows "Search" and its shortcut, "Ctrl + K", while its fixed aria-label
  // says "Search" only. Without the label its name is what it shows; the shortcut is
  // announced as a shortcut as well.
  function nameSearchFields() {
    document.querySelectorAll("button.search-button-field").forEach((button) => {
      button.removeAttribute("aria-label");
      button.setAttribute("aria-keyshortcuts", "Control+K");
    });
  }

  // The colour-mode button shows one icon at a time, titled "Light", "Dark" or "System
  // Settings", while its aria-label says "Color mode". Its name becomes "Color mode: Light"
  // and so on, kept up to date as the reader switches.
  function iconTitle(button, mode) {
    const icon = button.querySelector(`[data-mode="${mode}"]`);
    if (!icon) return "";
    const title = icon.getAttribute("title") || icon.querySelector("title")?.textContent || "";
    return title.trim();
  }

  function nameModeButtons() {
    const mode = document.documentElement.dataset.mode || "auto";
    document.querySelectorAll("button.theme-switch-button").forEach((button) => {
      if (!button.dataset.a11yName) {
        button.dataset.a11yName = button.getAttribute("aria-label") || "Color mode";
      }
      const title = iconTitle(button, mode);
      button.setAttribute("aria-label",
                          title ? `${button.dataset.a11yName}: ${title}` : button.dataset.a11yName);
    });
  }

  function start() {
    nameSearchFields();
    nameModeButtons();
    new MutationObserver(nameModeButtons).observe(
      document.documentElement, { attributes: true, attributeFilter: ["data-mode"] });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
