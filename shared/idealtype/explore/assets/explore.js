// Renders findings (window.EXPLORE_DATA, from data.js) one page at a time: only the visible
// page's faces are in the DOM, and images load lazily, so 512 dimensions stay quick.
"use strict";
(function () {
  const D = window.EXPLORE_DATA;
  const view = document.getElementById("view");

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child != null) el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const fmt = (v, digits = 3) => (v == null ? "–" : Number(v).toFixed(digits));
  const celebName = (id) => (D.celebs[id] && D.celebs[id].name) || id;

  // opts.value: number shown under the face; opts.named: show the celebrity's name (default
  // true; off where the row or column already says whose photos these are).
  function face(imageId, opts = {}) {
    const image = D.images[imageId] || {};
    const img = h("img", {
      src: "faces/" + imageId + ".jpg", loading: "lazy", alt: celebName(image.celeb_id),
      title: celebName(image.celeb_id) + "\n" + (image.source || imageId),
      onerror: (e) => e.target.classList.add("missing"),
    });
    const named = opts.named !== false;
    return h("figure", { class: "face" + (opts.suspect ? " suspect" : "") }, img,
      h("figcaption", {}, named ? celebName(image.celeb_id) : null,
        opts.value != null ? h("span", { class: "v" }, named ? h("br") : null, opts.value) : null));
  }

  function axisCard(kind) {
    return (axis) => {
      const extra = axis.explained_variance_ratio != null
        ? " · " + (100 * axis.explained_variance_ratio).toFixed(2) + "% of variance" : "";
      return h("section", { class: "card", id: kind + "-" + axis.index },
        h("h3", {}, (kind === "pc" ? "PC " : "Dimension ") + axis.index,
          h("small", {}, "  mean " + fmt(axis.mean) + " · std " + fmt(axis.std) + extra)),
        h("div", { class: "ends" },
          h("div", {}, h("h4", { text: "lowest" }),
            h("div", { class: "faces" }, axis.low.map((f) => face(f.image_id, { value: fmt(f.value) })))),
          h("div", {}, h("h4", { text: "highest" }),
            h("div", { class: "faces" }, axis.high.map((f) => face(f.image_id, { value: fmt(f.value) }))))));
    };
  }

  function spreadTable(items) {
    return h("table", {},
      h("tr", {}, h("th", { text: "Celebrity" }), h("th", { class: "num", text: "Faces" }),
        h("th", { class: "num", text: "Spread" }), h("th", { text: "Least typical photos (cos to the others)" })),
      items.map((s) => h("tr", {}, h("td", { text: celebName(s.celeb_id) }),
        h("td", { class: "num", text: s.n_faces }), h("td", { class: "num", text: fmt(s.spread) }),
        h("td", {}, h("div", { class: "faces" }, s.outliers.map((o) =>
          face(o.image_id, { value: fmt(o.own_similarity), named: false })))))));
  }

  function hints(m) {
    const notes = [];
    if (m.faces_in_photo) notes.push(m.faces_in_photo + " faces in the photo");
    if (m.box_outside) notes.push("indexed face box " + Math.round(100 * m.box_outside) + "% outside the frame");
    return notes.length ? h("p", { class: "hint", text: notes.join(" · ") +
      ": the build may have indexed another face than the one shown." }) : null;
  }

  function suspectCard(m) {
    const claimed = Boolean(m.other_examples);
    return h("section", { class: "card" },
      h("h3", {}, celebName(m.celeb_id) + (claimed ? " → " + celebName(m.other_celeb_id) + "?" : ""),
        h("small", {}, "  cos to own " + fmt(m.own_similarity) + " · nearest other: " +
          celebName(m.other_celeb_id) + " " + fmt(m.other_similarity))),
      h("div", { class: "compare" },
        h("div", {}, h("h4", { text: "suspect" }), face(m.image_id, { suspect: true, named: false })),
        h("div", {}, h("h4", { text: "filed as " + celebName(m.celeb_id) + " (most alike)" }),
          h("div", { class: "faces" }, m.own_examples.map((id) => face(id, { named: false })))),
        claimed ? h("div", {}, h("h4", { text: "looks like " + celebName(m.other_celeb_id) }),
          h("div", { class: "faces" }, m.other_examples.map((id) => face(id, { named: false })))) : h("div")),
      hints(m),
      h("p", { class: "muted", text: "file: " + ((D.images[m.image_id] || {}).source || m.image_id) }));
  }

  function samePersonCard(p) {
    return h("section", { class: "card" },
      h("h3", {}, p.celeb_ids.map(celebName).join(" = ") + "?",
        h("small", {}, "  centroid cos " + fmt(p.similarity) + " · " + p.n_faces.join(" / ") + " photos")),
      h("div", { class: "compare two" }, p.celeb_ids.map((id, i) =>
        h("div", {}, h("h4", { text: celebName(id) }),
          h("div", { class: "faces" }, p.examples[i].map((img) => face(img, { named: false })))))));
  }

  function duplicateCard(d) {
    return h("section", { class: "card" },
      h("h3", {}, d.celeb_ids.map(celebName).join(" / "),
        h("small", {}, "  cos " + fmt(d.similarity, 4) + " · own fit " +
          d.own_similarity.map((v) => (v == null ? "single photo" : fmt(v))).join(" / "))),
      h("div", { class: "faces" }, d.image_ids.map((id) => face(id))),
      h("p", { class: "muted", text: "files: " +
        d.image_ids.map((id) => (D.images[id] || {}).source || id).join("  ·  ") }));
  }

  function tooFewTable(items) {
    return h("table", {},
      h("tr", {}, h("th", { text: "Celebrity" }), h("th", { class: "num", text: "Usable faces" }),
        h("th", { class: "num", text: "Skipped files" }), h("th", { text: "Faces" })),
      items.map((t) => h("tr", {}, h("td", { text: celebName(t.celeb_id) }),
        h("td", { class: "num", text: t.n_faces }), h("td", { class: "num", text: t.skipped_files }),
        h("td", {}, h("div", { class: "faces" }, t.image_ids.map((id) => face(id, { named: false })))))));
  }

  function skippedTable(items) {
    return h("table", {},
      h("tr", {}, h("th", { text: "File" }), h("th", { text: "Reason" }), h("th", { text: "Detail" })),
      items.map((s) => h("tr", {}, h("td", { text: s.source }), h("td", { text: s.reason }),
        h("td", { class: "muted", text: s.detail || "" }))));
  }

  const S = D.settings;
  const sections = [
    { id: "overview", title: "Overview", render: overview },
    { id: "dims", title: "Dimensions", items: D.dimensions, size: 8, card: axisCard("dim"),
      jump: "dim", intro: "Each embedding dimension, with the " + S.per_side +
        " faces (of distinct people) at its lowest and highest values." },
    { id: "pcs", title: "Principal components", items: D.principal_components, size: 8,
      card: axisCard("pc"), jump: "pc", intro: "Directions of largest variance across all faces; " +
        "usually easier to read than raw dimensions." },
    { id: "spread", title: "Spread", items: D.spread, size: 20, table: spreadTable,
      intro: "Celebrities with 2+ photos, widest first. Spread = mean cosine distance between " +
        "their photos; each photo's number is its cosine to the mean of the others." },
    { id: "mislabeled", title: "Likely mislabeled", items: D.mislabeled, size: 15, card: suspectCard,
      intro: "Photos whose cosine to the rest of their celebrity's photos is below " +
        S.mislabel_own_max + " while another celebrity reaches " + S.mislabel_other_min +
        " (and at least " + S.mislabel_margin + " more)." },
    { id: "unlike", title: "Unlike their celebrity", items: D.unlike_own, size: 15, card: suspectCard,
      intro: "Photos whose cosine to the rest of their celebrity's photos is below " +
        S.mislabel_own_max + " with no other celebrity matching them: a wrong face indexed from a " +
        "group photo, someone not in the gallery, or an unusual photo. Lowest first." },
    { id: "dup-across", title: "Duplicates across people", items: D.duplicates_across, size: 20,
      card: duplicateCard, intro: "The same picture under different celebrities (cosine ≥ " +
        S.duplicate_across_threshold + ")." },
    { id: "dup-within", title: "Duplicates within", items: D.duplicates_within, size: 20,
      card: duplicateCard, intro: "The same picture (or a burst shot) twice under one celebrity " +
        "(cosine ≥ " + S.duplicate_within_threshold + ")." },
    { id: "same-person", title: "Same person?", items: D.same_person, size: 20, card: samePersonCard,
      intro: "Celebrity pairs whose centroids have cosine ≥ " + S.same_person_threshold +
        ": one person under two names, or photos filed under each other's names." },
    { id: "few", title: "Too few faces", items: D.too_few_faces, size: 50, table: tooFewTable,
      intro: "Fewer than " + S.min_faces + " usable faces: their labels can't be cross-checked " +
        "and their centroid is a single photo (or none)." },
    { id: "skipped", title: "Skipped files", items: D.skipped_files, size: 100, table: skippedTable,
      intro: "Files the build job skipped (from the build report)." },
  ];

  function overview() {
    const card = (s, what) => h("a", { href: "#" + s.id }, h("b", { text: s.items.length }),
      s.title, h("span", { class: "muted", text: what }));
    const byId = (id) => sections.find((s) => s.id === id);
    const single = D.summary.single_photo_celebs_not_judged;
    return h("div", {},
      h("h2", { text: "What may be wrong in this gallery" }),
      h("div", { class: "summary" },
        card(byId("mislabeled"), "photos that match another celebrity, not their own"),
        card(byId("unlike"), "photos unlike the rest of their celebrity's"),
        card(byId("dup-across"), "pairs: one picture filed under two people"),
        card(byId("dup-within"), "pairs: one picture twice under one person"),
        card(byId("same-person"), "celebrity pairs that may be one person"),
        card(byId("few"), "celebrities with fewer than " + S.min_faces + " usable faces"),
        card(byId("skipped"), "files the build skipped")),
      h("p", { class: "muted", text: single + (single === 1 ? " celebrity has" : " celebrities have") +
        " a single photo, so its label can't be cross-checked. " +
        (D.summary.suspects_explained_by_partner || 0) + " photo(s) of two-photo celebrities are " +
        "not listed: they only look unlike their celebrity because the other photo is a wrong face." +
        (D.summary.duplicate_pairs_truncated ? " Duplicate pairs were truncated." : "") }),
      h("h2", { text: "What the features mean" }),
      h("div", { class: "summary" },
        card(byId("dims"), "embedding dimensions, faces at both ends"),
        card(byId("pcs"), "principal components, faces at both ends"),
        card(byId("spread"), "celebrities, by how varied their photos are")),
      h("h2", { text: "Settings" }),
      h("table", { class: "settings" }, Object.entries(S).map(([k, v]) =>
        h("tr", {}, h("th", { text: k }), h("td", { class: "num", text: v })))),
      h("p", { class: "muted" }, "The same findings as data: ",
        h("a", { href: "findings.json", text: "findings.json" }),
        "; with --fix, the suggested actions are in fix_suggestions.csv / .json."));
  }

  function pager(section, page, pages) {
    const go = (p) => { location.hash = "#" + section.id + "/" + Math.min(Math.max(p, 1), pages); };
    const input = h("input", { type: "number", min: 1, max: pages, value: page, "aria-label": "page",
      onchange: (e) => go(Number(e.target.value) || 1) });
    const parts = [
      h("button", { onclick: () => go(page - 1), disabled: page <= 1, text: "‹ Prev" }),
      h("span", {}, "Page ", input, " of " + pages),
      h("button", { onclick: () => go(page + 1), disabled: page >= pages, text: "Next ›" }),
    ];
    if (section.jump) {
      const target = h("input", { type: "number", min: 0, max: section.items.length - 1,
        "aria-label": "go to " + section.jump, placeholder: "#",
        onchange: (e) => {
          const n = Math.max(0, Math.min(section.items.length - 1, Number(e.target.value) || 0));
          pendingScroll = section.jump + "-" + n;
          go(Math.floor(n / section.size) + 1);
        } });
      parts.push(h("span", {}, " Go to " + (section.jump === "pc" ? "PC" : "dimension") + " ", target));
    }
    return h("div", { class: "pager" }, parts);
  }

  let pendingScroll = null;

  function render() {
    const [id, pageText] = location.hash.replace(/^#/, "").split("/");
    const section = sections.find((s) => s.id === id) || sections[0];
    document.querySelectorAll("#tabs a").forEach((a) =>
      a.classList.toggle("active", a.dataset.id === section.id));
    view.replaceChildren();
    if (!section.items) { view.append(section.render()); return; }
    const pages = Math.max(1, Math.ceil(section.items.length / section.size));
    const page = Math.min(Math.max(parseInt(pageText, 10) || 1, 1), pages);
    const slice = section.items.slice((page - 1) * section.size, page * section.size);
    view.append(h("p", { class: "muted", text: section.intro }));
    if (!section.items.length) { view.append(h("p", { text: "Nothing found." })); return; }
    view.append(pager(section, page, pages));
    view.append(section.table ? section.table(slice) : h("div", {}, slice.map(section.card)));
    if (pages > 1) view.append(pager(section, page, pages));
    const anchor = pendingScroll && document.getElementById(pendingScroll);
    if (anchor) anchor.scrollIntoView();
    else window.scrollTo(0, 0);
    pendingScroll = null;
  }

  const ix = D.index;
  document.getElementById("index-line").textContent =
    (ix.location || "index") + " · version " + ix.version + " · model " + ix.model + " · " +
    ix.images + " faces of " + ix.celebrities + " celebrities · " + ix.dims + " dims";
  document.getElementById("tabs").append(...sections.map((s) =>
    h("a", { href: "#" + s.id, "data-id": s.id }, s.title,
      s.items ? h("span", { class: "count", text: " " + s.items.length }) : null)));
  window.addEventListener("hashchange", render);
  render();
})();
