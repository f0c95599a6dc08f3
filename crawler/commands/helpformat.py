"""The help layout of the project's commands (`scrapy explain --help`, ...): examples kept line by line, only real headings underlined.

Scrapy's ScrapyHelpFormatter re-fills a command's whole description into one paragraph (the
examples run together) and underlines every help part that ends with a colon, so an option whose
help wraps after "(default:" became a heading. Here a description keeps its paragraphs, indented
lines (examples) stay as written, and only argparse's own section titles (unindented, "options:",
"Global Options:") become headings. A command sets it in add_options: `parser.formatter_class =
CommandHelpFormatter`.
"""

from __future__ import annotations

from scrapy.commands import ScrapyHelpFormatter


class CommandHelpFormatter(ScrapyHelpFormatter):
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(line[:1].isspace() for line in lines):  # an example block: as written
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(super()._fill_text(" ".join(line.strip() for line in lines), width, indent))
        return "\n\n".join(paragraphs)

    def start_section(self, heading):
        self.__dict__.setdefault("_titles", set()).add(f"{heading}:\n")
        super().start_section(heading)

    def format_part_strings(self, part_strings: list[str]) -> list[str]:
        # Scrapy's own formatting, with the parts that are not section titles (a help line that
        # wraps after "default:") hidden from its heading rule behind a marker, then restored
        titles, marker = self.__dict__.get("_titles", set()), "\0"
        guarded = [part + marker if part.endswith(":\n") and part not in titles else part for part in part_strings]
        return [part.replace(":\n" + marker, ":\n") for part in super().format_part_strings(guarded)]
