"""Just enough Markdown structure for the course: blocks (as Textual counts widgets) and links.

Not a renderer: it splits a page into the blocks Textual's Markdown widget
would mount one widget each for (headings, paragraphs, list items, table rows,
code blocks, quotes), so that validation can keep pages small and find myth
quotes, and so that plain mode can print a page block by block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
LESSON_LINK = "lesson:"
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


@dataclass(frozen=True)
class Block:
    kind: str  # heading, paragraph, list_item, table_row, code, quote, rule
    line: int  # 1-based line of the block's first line in the page
    text: str  # the block's source lines; for code, the code alone
    level: int = 0  # heading level
    language: str = ""  # code blocks


def blocks(markdown: str) -> list[Block]:
    out: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            marker, end = fence.group(1), i + 1
            while end < len(lines) and not lines[end].strip().startswith(marker):
                end += 1
            out.append(Block("code", i + 1, "\n".join(lines[i + 1 : end]), language=fence.group(2)))
            i = end + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            out.append(Block("heading", i + 1, heading.group(2).strip(), level=len(heading.group(1))))
            i += 1
            continue
        if _RULE.match(line):
            out.append(Block("rule", i + 1, ""))
            i += 1
            continue
        if line.lstrip().startswith("|"):
            if not _TABLE_SEPARATOR.match(line.replace("|", "", 1)):
                out.append(Block("table_row", i + 1, line.strip()))
            i += 1
            continue
        kind = "quote" if line.lstrip().startswith(">") else "list_item" if _LIST_ITEM.match(line) else "paragraph"
        end = i + 1
        while end < len(lines) and _continues(kind, lines[end]):
            end += 1
        out.append(Block(kind, i + 1, "\n".join(lines[i:end])))
        i = end
    return out


def _continues(kind: str, line: str) -> bool:
    """Whether `line` belongs to the block above it (a paragraph's next line, a list item's wrapped text)."""
    if not line.strip() or _FENCE.match(line) or _HEADING.match(line) or line.lstrip().startswith("|"):
        return False
    if kind == "quote":
        return line.lstrip().startswith(">")
    return not line.lstrip().startswith(">") and not _LIST_ITEM.match(line)


def links(markdown: str) -> list[tuple[int, str, str]]:
    """(line, text, target) for every [text](target) outside code blocks."""
    found = []
    for block in blocks(markdown):
        if block.kind == "code":
            continue
        for offset, line in enumerate(block.text.splitlines()):
            found += [(block.line + offset, m.group(1), m.group(2)) for m in LINK.finditer(line)]
    return found


def is_myth_quote(block: Block) -> bool:
    """A quote that opens with **Myth:** (lessons/README.md): the one place an outdated claim may be named."""
    return block.kind == "quote" and block.text.lstrip("> \t").startswith("**Myth:**")
