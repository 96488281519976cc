/**
 * Catalog HTML (an app's description and notes) made safe to show: the marketplace sanitizes it
 * already, and a catalog format from another plugin may not, so the dashboard does it again
 * (DOMPurify): no scripts, handlers, styles or forms; links open apart, telling nothing.
 */
import DOMPurify from "dompurify";

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

export function safeHtml(html: string): string {
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
    FORBID_ATTR: ["style"],
  });
}
