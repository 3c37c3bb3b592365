import { describe, expect, it } from "vitest";
import { ipv4Key, ipv4KeyOfBytes } from "../src/index/ipv4Key.js";

describe("ipv4Key", () => {
  it("maps canonical dotted quads to their 32-bit value", () => {
    expect(ipv4Key("10.1.2.3")).toBe(0x0a010203);
    expect(ipv4Key("255.255.255.255")).toBe(0xffffffff);
    expect(ipv4Key("0.0.0.0")).toBe(0);
    const b = Buffer.from("xx192.168.0.1yy");
    expect(ipv4KeyOfBytes(b, 2, 13)).toBe(0xc0a80001);
  });

  it("refuses everything else, so those go the text path", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1..2.3",
      "1.2.3.",
      ".1.2.3",
      "fd00::1",
      "::ffff:1.2.3.4",
      "1.2.3.4 ",
      "a.b.c.d",
      "1.2.3.1000",
    ]) {
      expect(ipv4Key(bad), bad).toBe(-1);
    }
  });
});
