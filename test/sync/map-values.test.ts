import { expect } from "chai";
import { cutText, toDateTime, toMajorUnits } from "../../src/domain/sync/map-values.js";

describe("amounts and timestamps", () => {
  it("divides USD by 100 without float garbage", () => {
    expect(toMajorUnits(1999, "usd")).to.equal(19.99);
    expect(toMajorUnits(1, "usd")).to.equal(0.01);
    expect(toMajorUnits(-1999, "USD")).to.equal(-19.99);
    expect(String(toMajorUnits(1234567, "eur"))).to.equal("12345.67");
  });

  it("keeps zero-decimal currencies as they are: 5000 JPY is 5000", () => {
    expect(toMajorUnits(5000, "jpy")).to.equal(5000);
    expect(toMajorUnits(12345, "KRW")).to.equal(12345);
  });

  it("divides three-decimal currencies by 1000: 1234 KWD is 1.234", () => {
    expect(toMajorUnits(1234, "kwd")).to.equal(1.234);
    expect(toMajorUnits(1005, "bhd")).to.equal(1.005);
  });

  it("uses two decimals when the currency is unknown or missing", () => {
    expect(toMajorUnits(250, null)).to.equal(2.5);
    expect(toMajorUnits(250, "xyz")).to.equal(2.5);
  });

  it("keeps null amounts null", () => {
    expect(toMajorUnits(null, "usd")).to.equal(null);
  });

  it("turns unix seconds into ISO 8601 UTC and keeps null null", () => {
    expect(toDateTime(1735689600)).to.equal("2025-01-01T00:00:00.000Z");
    expect(toDateTime(null)).to.equal(null);
  });

  it("cuts text to a length without splitting a character", () => {
    expect(cutText("a".repeat(300), 255)).to.have.length(255);
    // Salesforce counts UTF-16 code units: an emoji is two of them, and half of one is dropped.
    expect(cutText("😀".repeat(100), 80)).to.equal("😀".repeat(40));
    expect(cutText(`a${"😀".repeat(100)}`, 80)).to.equal(`a${"😀".repeat(39)}`);
    expect(cutText("short", 80)).to.equal("short");
  });
});
