"""UFO: candidate areas, scoring, the chiefs' decisions, and the savings pages (routes under /fup/)."""
