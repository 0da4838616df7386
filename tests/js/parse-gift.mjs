// Parse a GIFT file with gift-pegjs (the GIFT grammar many tools use) and print the questions as JSON.
import { parse } from "gift-pegjs";
import fs from "fs";
try {
  console.log(JSON.stringify(parse(fs.readFileSync(process.argv[2], "utf8"))));
} catch (e) {
  console.error(`${process.argv[2]}:${e.location ? e.location.start.line : 0}: ${e.message}`);
  process.exit(1);
}
