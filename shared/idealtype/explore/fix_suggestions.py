"""`--fix`: turn findings into a to-do list for a person (JSON + CSV). Every line is a question
("move photo X from A to B?"); nothing here touches the gallery."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

COLUMNS = ("action", "question", "image_id", "source", "celeb_id", "to_celeb_id", "evidence")


def suggestion(findings: dict[str, Any], action: str, question: str, **fields: Any) -> dict:
    image = findings["images"].get(fields.get("image_id") or "", {})
    row = {"action": action, "question": question, "source": image.get("source", "")}
    row.update({k: fields.get(k, "") for k in COLUMNS if k not in row})
    return row


def name(findings: dict[str, Any], celeb_id: str) -> str:
    return findings["celebs"].get(celeb_id, {}).get("name", celeb_id)


def fits(value: float | None, fit_min: float) -> bool:
    return value is not None and value >= fit_min


def duplicate_across(findings: dict[str, Any], dup: dict[str, Any]) -> dict[str, Any]:
    """Which copy is the wrong one? The one that fits its own celebrity worse, provided the other
    copy clearly fits its celebrity; otherwise only a person can tell."""
    fit_min = findings["settings"]["mislabel_other_min"]  # "clearly fits": a genuine match
    (img_a, img_b), (celeb_a, celeb_b) = dup["image_ids"], dup["celeb_ids"]
    fit_a, fit_b = dup["own_similarity"]
    evidence = f"cos {dup['similarity']:.3f}; own fit {fit_a} vs {fit_b}"
    for bad, bad_celeb, good_celeb, bad_fit, good_fit in (
        (img_a, celeb_a, celeb_b, fit_a, fit_b),
        (img_b, celeb_b, celeb_a, fit_b, fit_a),
    ):
        if fits(good_fit, fit_min) and (bad_fit is None or bad_fit < good_fit):
            if bad_fit is None:
                question = (
                    f"{name(findings, bad_celeb)}'s only photo {bad} is the same picture as one of "
                    f"{name(findings, good_celeb)}'s: same person under two names, or misfiled?"
                )
                return suggestion(findings, "review_duplicate", question, image_id=bad,
                                  celeb_id=bad_celeb, to_celeb_id=good_celeb, evidence=evidence)
            question = (
                f"Remove duplicate photo {bad} from {name(findings, bad_celeb)}? The same picture "
                f"is filed under {name(findings, good_celeb)}, whose other photos it matches."
            )
            return suggestion(findings, "remove_duplicate", question, image_id=bad,
                              celeb_id=bad_celeb, to_celeb_id=good_celeb, evidence=evidence)
    question = (
        f"Photos {img_a} ({name(findings, celeb_a)}) and {img_b} ({name(findings, celeb_b)}) are "
        "the same picture: which label is right?"
    )
    return suggestion(findings, "review_duplicate", question, image_id=img_a, celeb_id=celeb_a,
                      to_celeb_id=celeb_b, evidence=evidence)


def wrong_face_note(findings: dict[str, Any], suspect: dict[str, Any]) -> str:
    """Why the build may have indexed another face than the person the photo is filed under."""
    notes = []
    if suspect.get("faces_in_photo"):
        notes.append(f"the photo has {suspect['faces_in_photo']} faces")
    if suspect.get("box_outside", 0) >= findings["settings"]["wrong_face_box_outside"]:
        notes.append(f"the indexed box is {suspect['box_outside']:.0%} outside the frame")
    return " and ".join(notes)


def photo_suspect(findings: dict[str, Any], m: dict[str, Any], mislabeled: bool) -> dict:
    who, image_id = name(findings, m["celeb_id"]), m["image_id"]
    other = name(findings, m["other_celeb_id"])
    evidence = f"cos to own celebrity {m['own_similarity']:.3f}"
    if mislabeled:
        evidence += f", to {m['other_celeb_id']} {m['other_similarity']:.3f}"
    fields = {"image_id": image_id, "celeb_id": m["celeb_id"], "evidence": evidence}
    note = wrong_face_note(findings, m)
    if note:
        looks = f"the indexed face looks like {other}, " if mislabeled else ""
        question = (
            f"Photo {image_id} of {who}: {looks}{note}. Was the wrong face indexed? "
            "Crop the photo to the right face, or remove it?"
        )
        return suggestion(findings, "check_face", question, **fields)
    if mislabeled:
        question = f"Move photo {image_id} from {who} to {other}? (or remove it if it is neither)"
        return suggestion(findings, "move", question, to_celeb_id=m["other_celeb_id"], **fields)
    question = f"Photo {image_id} does not look like {who}'s other photos: is it {who}? Remove it if not."
    return suggestion(findings, "review_photo", question, **fields)


def fix_suggestions(findings: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [photo_suspect(findings, m, mislabeled=True) for m in findings["mislabeled"]]
    rows += [photo_suspect(findings, m, mislabeled=False) for m in findings["unlike_own"]]
    rows += [duplicate_across(findings, d) for d in findings["duplicates_across"]]
    for d in findings["duplicates_within"]:
        keep, drop = d["image_ids"]
        question = (
            f"Remove duplicate photo {drop} of {name(findings, d['celeb_ids'][1])}? "
            f"It is the same picture as {keep}."
        )
        rows.append(suggestion(findings, "remove_duplicate", question, image_id=drop,
                               celeb_id=d["celeb_ids"][1], evidence=f"cos {d['similarity']:.3f}"))
    for p in findings["same_person"]:
        (a, b), (n_a, n_b) = p["celeb_ids"], p["n_faces"]
        question = (
            f"Are {name(findings, a)} ({n_a} photos) and {name(findings, b)} ({n_b} photos) the "
            "same person? Merge them, or move the photos filed under the wrong name?"
        )
        rows.append(suggestion(findings, "merge_celebrities", question, celeb_id=a, to_celeb_id=b,
                               evidence=f"centroid cos {p['similarity']:.3f}"))
    min_faces = findings["settings"]["min_faces"]
    for t in findings["too_few_faces"]:
        question = (
            f"Add photos of {name(findings, t['celeb_id'])}? {t['n_faces']} usable face(s), "
            f"fewer than {min_faces}."
        )
        evidence = f"{t['skipped_files']} file(s) skipped by the build" if t["skipped_files"] else ""
        rows.append(suggestion(findings, "add_photos", question, celeb_id=t["celeb_id"],
                               evidence=evidence))
    return rows


def write_fix_suggestions(out_dir: Path, rows: list[dict[str, Any]]) -> list[Path]:
    json_path, csv_path = out_dir / "fix_suggestions.json", out_dir / "fix_suggestions.csv"
    json_path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return [json_path, csv_path]
