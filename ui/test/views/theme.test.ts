// The stylesheet: a dark theme under prefers-color-scheme, readable contrast in both themes,
// visible keyboard focus and tabular figures.
import { describe, expect, it } from "vitest";
import css from "../../src/styles.css?raw";

/** The custom properties declared in a block of CSS. */
function vars(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/--([\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
}

const [lightPart, darkPart = ""] = css.split("@media (prefers-color-scheme: dark)");
const light = vars(/:root\s*\{([^}]*)\}/.exec(lightPart)?.[1] ?? "");
const darkBlock = /^\s*\{\s*:root\s*\{([^}]*)\}\s*\}/.exec(darkPart)?.[1] ?? "";
const dark = { ...light, ...vars(darkBlock) };

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const TEXT_ON: [string, string][] = [
  ...["text", "muted", "accent", "danger", "ok", "gain", "loss", "warn"].flatMap((fg) =>
    ["card", "bg", "subtle-bg"].map((bg): [string, string] => [fg, bg]),
  ),
  ["on-primary", "primary-bg"],
  ["on-badge", "badge-bg"],
  ["notice-text", "notice-bg"],
  ["danger", "error-bg"],
  ["accent", "accent-bg"],
  ["text", "field-bg"],
];

describe("theme", () => {
  it("defines every colour again for the dark theme under prefers-color-scheme: dark", () => {
    expect(darkBlock).not.toBe("");
    const lightColours = Object.keys(light).filter((k) => /^#|rgba/.test(light[k]));
    expect(lightColours.length).toBeGreaterThan(20);
    expect(Object.keys(vars(darkBlock)).sort()).toEqual(lightColours.sort());
    expect(dark.bg).not.toBe(light.bg);
    expect(css).toContain("color-scheme: light dark");
  });

  it("keeps text at 4.5:1 or more against its background in both themes", () => {
    for (const [name, theme] of [
      ["light", light],
      ["dark", dark],
    ] as const) {
      for (const [fg, bg] of TEXT_ON) {
        const ratio = contrast(theme[fg], theme[bg]);
        expect(ratio, `${name}: --${fg} on --${bg}`).toBeGreaterThanOrEqual(4.5);
      }
    }
  });

  it("shows keyboard focus and sets figures in tabular numerals", () => {
    expect(css).toMatch(/:focus-visible\s*\{[^}]*outline:\s*3px solid var\(--focus\)/);
    expect(css).toMatch(/font-variant-numeric:\s*tabular-nums/);
  });
});
