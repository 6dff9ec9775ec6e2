/*
 * praxisbote SMS counter: the rules of src/praxisbote/texts/encoding.py in the browser,
 * for a live count while typing (no build step, no dependencies).
 *
 *   praxisboteAnalyzeSms(text, smart) -> {encoding, segments, characters, units,
 *     remaining_in_segment, non_gsm_characters, parts, smart: {enabled, applies, text,
 *     changes: [{from, to, count}], kept, encoding_before, encoding_after,
 *     segments_before, segments_after}}
 *
 * Cost is the caller's: segments x the practice's SMS price. Tested against the Python
 * implementation on tests/texts/vectors.json (tests/texts/test_js_counter.py).
 *
 * GSM-7: basic table 1 septet, extension table (form feed ^ { } \ [ ] ~ | EURO) 2;
 * 160 in one SMS, 153 per part. Any other character: UCS-2, UTF-16 units (an emoji
 * outside the BMP costs 2); 70 in one SMS, 67 per part. Parts are filled greedily and
 * never split an escape pair, a surrogate pair or a grapheme cluster (Intl.Segmenter);
 * a cluster longer than a whole part starts a part and is cut at code points.
 * "characters" counts code points. An empty text is 0 segments.
 * Note: a textarea's value uses "\n" for line breaks; a form post sends "\r\n".
 */
(function (root) {
  "use strict";

  var GSM7 = "GSM-7";
  var UCS2 = "UCS-2";
  var LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };
  var BASIC =
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5" +
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9" +
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?" +
    "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7" +
    "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  var EXTENSION = "\f^{}\\[]~|\u20ac";

  // Same table as SMART_REPLACEMENTS in encoding.py.
  var SMART = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2039": "'",
    "\u203a": "'", "\u2032": "'", "\u02bc": "'", "\u00b4": "'", "\u0060": "'",
    "\uff07": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"',
    "\u00bb": '"', "\u2033": '"', "\uff02": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2022": "-", "\u2023": "-", "\u2043": "-",
    "\u2026": "...",
    "\t": " ", "\u00a0": " ", "\u202f": " ", "\u205f": " ", "\u3000": " ",
    "\u2028": "\n", "\u2029": "\n",
    "\u00ad": "", "\u200b": "", "\u2060": "", "\ufeff": ""
  };
  for (var space = 0x2000; space < 0x200b; space++) {
    SMART[String.fromCharCode(space)] = " ";
  }

  var gsm = new Set(Array.from(BASIC + EXTENSION));
  var extension = new Set(Array.from(EXTENSION));
  var MARKS = /[\u0300-\u036f]+/g;
  var segmenter =
    typeof Intl !== "undefined" && typeof Intl.Segmenter === "function"
      ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
      : null;

  function cost(char, encoding) {
    if (encoding === GSM7) return extension.has(char) ? 2 : 1;
    return char.length; // 2 for a code point outside the BMP
  }

  function units(text, encoding) {
    if (encoding === UCS2) return text.length;
    var total = 0;
    for (var char of text) total += cost(char, encoding);
    return total;
  }

  function clusters(text) {
    if (segmenter) {
      return Array.from(segmenter.segment(text), function (s) { return s.segment; });
    }
    // Without Intl.Segmenter: code points, keeping CR LF together.
    var out = [];
    for (var char of text) {
      if (char === "\n" && out.length && out[out.length - 1] === "\r") out[out.length - 1] = "\r\n";
      else out.push(char);
    }
    return out;
  }

  function split(text, encoding, limit) {
    var parts = [];
    var current = "";
    var used = 0;
    clusters(text).forEach(function (cluster) {
      var size = units(cluster, encoding);
      if (used + size <= limit) {
        current += cluster;
        used += size;
      } else if (size <= limit) {
        parts.push(current);
        current = cluster;
        used = size;
      } else { // longer than a part: a part of its own, cut at code points
        if (used) {
          parts.push(current);
          current = "";
          used = 0;
        }
        for (var char of cluster) {
          var step = cost(char, encoding);
          if (used + step > limit) {
            parts.push(current);
            current = "";
            used = 0;
          }
          current += char;
          used += step;
        }
      }
    });
    if (current) parts.push(current);
    return parts;
  }

  function analyze(text) {
    var characters = 0;
    var nonGsm = [];
    var seen = new Set();
    for (var char of text) {
      characters++;
      if (!gsm.has(char) && !seen.has(char)) {
        seen.add(char);
        nonGsm.push(char);
      }
    }
    var encoding = nonGsm.length ? UCS2 : GSM7;
    var limits = LIMITS[encoding];
    var total = units(text, encoding);
    var segments, remaining, parts;
    if (total <= limits[0]) {
      segments = characters ? 1 : 0;
      remaining = limits[0] - total;
      parts = characters ? [text] : [];
    } else {
      parts = split(text, encoding, limits[1]);
      segments = parts.length;
      remaining = limits[1] - units(parts[parts.length - 1], encoding);
    }
    return {
      encoding: encoding,
      segments: segments,
      characters: characters,
      units: total,
      remaining_in_segment: remaining,
      non_gsm_characters: nonGsm,
      parts: parts
    };
  }

  // Two passes as in encoding.replace_lookalikes: CR LF and the table, then composition.
  function replaceLookalikes(text) {
    var counts = new Map();
    var i = 0;
    while (i < text.length) {
      if (text.startsWith("\r\n", i)) {
        counts.set("\r\n", (counts.get("\r\n") || 0) + 1);
        i += 2;
        continue;
      }
      var char = String.fromCodePoint(text.codePointAt(i));
      if (Object.prototype.hasOwnProperty.call(SMART, char)) {
        counts.set(char, (counts.get(char) || 0) + 1);
      }
      i += char.length;
    }
    var changes = [];
    counts.forEach(function (count, source) {
      var target = source === "\r\n" ? "\n" : SMART[source];
      changes.push({ from: source, to: target, count: count });
    });
    changes.forEach(function (change) {
      text = text.split(change.from).join(change.to);
    });
    var composed = new Map();
    var out = "";
    var done = 0;
    var match;
    MARKS.lastIndex = 0;
    while ((match = MARKS.exec(text)) !== null) {
      var end = match.index + match[0].length;
      var start = match.index - 1;
      if (start < 0) continue;
      var low = text.charCodeAt(start);
      if (start > 0 && low >= 0xdc00 && low <= 0xdfff) {
        var high = text.charCodeAt(start - 1);
        if (high >= 0xd800 && high <= 0xdbff) start--;
      }
      var found = text.slice(start, end);
      var target = found.normalize("NFC");
      if (Array.from(target).length !== 1 || !gsm.has(target)) continue;
      out += text.slice(done, start) + target;
      done = end;
      var entry = composed.get(found);
      if (entry) entry.count++;
      else composed.set(found, { from: found, to: target, count: 1 });
    }
    if (composed.size) {
      text = out + text.slice(done);
      composed.forEach(function (entry) { changes.push(entry); });
    }
    return { text: text, changes: changes };
  }

  function isGsm(text) {
    for (var char of text) if (!gsm.has(char)) return false;
    return true;
  }

  function nonGsmOf(text) {
    var found = [];
    var seen = new Set();
    for (var char of text) {
      if (!gsm.has(char) && !seen.has(char)) {
        seen.add(char);
        found.push(char);
      }
    }
    return found;
  }

  function smartOf(text, before) {
    var same = { text: text, applies: false, changes: [], kept: [], after: before };
    if (before.encoding === GSM7 && text.indexOf("\r\n") < 0) return same;
    var replaced = replaceLookalikes(text);
    if (!replaced.changes.length) {
      same.kept = before.non_gsm_characters.slice();
      return same;
    }
    if (!isGsm(replaced.text)) {
      same.kept = nonGsmOf(replaced.text);
      return same;
    }
    var after = analyze(replaced.text);
    if (after.segments > before.segments) return same;
    return { text: replaced.text, applies: true, changes: replaced.changes, kept: [], after: after };
  }

  function praxisboteAnalyzeSms(text, smart) {
    text = String(text == null ? "" : text);
    var before = analyze(text);
    var result = smartOf(text, before);
    var shown = smart && result.applies ? result.after : before;
    return {
      encoding: shown.encoding,
      segments: shown.segments,
      characters: shown.characters,
      units: shown.units,
      remaining_in_segment: shown.remaining_in_segment,
      non_gsm_characters: shown.non_gsm_characters,
      parts: shown.parts,
      smart: {
        enabled: !!smart,
        applies: result.applies,
        text: result.text,
        changes: result.changes,
        kept: result.kept,
        encoding_before: before.encoding,
        encoding_after: result.after.encoding,
        segments_before: before.segments,
        segments_after: result.after.segments
      }
    };
  }

  root.praxisboteAnalyzeSms = praxisboteAnalyzeSms;
})(typeof globalThis !== "undefined" ? globalThis : this);
