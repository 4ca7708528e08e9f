// Parses and validates Adaptive Cards with Microsoft's own renderer library (npm "adaptivecards",
// installed by .ci/run into .tools/adaptivecards). Usage: node validate.js <adaptivecards.js> <cards.json>
// where cards.json is {"name": card, ...}. Prints {"name": ["warning", ...], ...}: every parse event
// (unknown element or action, invalid property value, …) and every validateProperties() event.
"use strict";
const fs = require("fs");
const AC = require(process.argv[2]);
const cards = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = {};
for (const [name, json] of Object.entries(cards)) {
  const messages = [];
  const context = new AC.SerializationContext();
  const card = new AC.AdaptiveCard();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    messages.push("parse: " + context.getEventAt(i).message);
  }
  for (const event of card.validateProperties().validationEvents) {
    messages.push("validate: " + event.message);
  }
  out[name] = messages;
}
process.stdout.write(JSON.stringify(out));
