import { describe, expect, it } from "vitest";
import { browseOf, browsePath } from "./MarketplacePage";
import { safeHtml } from "./html";
import { defaultName, installRequest } from "./InstallForm";
import type { AppDetail, TemplateEnv } from "./api";

const env = (name: string, more: Partial<TemplateEnv> = {}): TemplateEnv => ({ name, label: "", description: "", default: "", choices: [], hidden: false, required: false, secret: false, ...more });

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  return data;
}

describe("catalog HTML", () => {
  it("keeps the text and links, drops scripts, handlers and styles", () => {
    const shown = safeHtml('<p onclick="steal()">Hi <b>there</b><script>steal()</script> <a href="https://example.org" style="color:red">site</a></p><img src=x onerror="steal()">');
    expect(shown).not.toMatch(/script|onclick|onerror|style=/);
    expect(shown).toContain("<b>there</b>");
    expect(shown).toContain('rel="noopener noreferrer nofollow"');
    expect(safeHtml('<a href="javascript:alert(1)">x</a>')).not.toContain("javascript:");
  });
});

describe("browsing", () => {
  it("keeps the view in the address", () => {
    const view = { q: "git", category: "Developer Tools", kind: "", page: 2 };
    expect(browsePath(view)).toBe("/marketplace?q=git&category=Developer+Tools&page=2");
    expect(browseOf("q=git&category=Developer+Tools&page=2")).toEqual(view);
    expect(browseOf("page=-3").page).toBe(1);
    expect(browsePath(browseOf(""))).toBe("/marketplace");
  });
});

describe("the install form", () => {
  const app = { title: "Gitea: Git with a cup of tea", env: [env("PORT", { default: "3000", required: true }), env("MODE", { choices: [{ value: "a", label: "A" }, { value: "b", label: "" }] }), env("TOKEN", { secret: true, required: true }), env("FIXED", { hidden: true, default: "1" })] } as AppDetail;
  it("names the install after the app", () => {
    expect(defaultName("Gitea: Git with a cup of tea")).toBe("gitea-git-with-a-cup-of-tea");
    expect(defaultName("  Ünïcode!! ")).toBe("n-code");
    expect(defaultName("!!!")).toBe("app");
  });
  it("sends the values of the fields shown, never the fixed ones", () => {
    expect(installRequest(app, form({ name: "git", PORT: "3001", MODE: "b", TOKEN: "t0k" }))).toEqual({ body: { name: "git", values: { PORT: "3001", MODE: "b", TOKEN: "t0k" } }, problems: null });
  });
  it("says what is missing or wrong before sending", () => {
    const checked = installRequest(app, form({ name: "Git Tea", PORT: "", MODE: "c", TOKEN: "" }));
    expect(checked.body).toBeNull();
    expect(Object.keys(checked.problems ?? {}).sort()).toEqual(["MODE", "PORT", "TOKEN", "name"]);
  });
});
