"""``%%chat``: the cell is the prompt.

    %load_ext chatnb
    %%chat -t 0.2
    Summarise {report} in three bullet points.

``{name}`` takes the value of ``name`` from the notebook (``{{`` and ``}}`` are literal braces);
``-b NAME`` asks the Chatbot bound to ``NAME`` instead of the notebook-wide default one.
"""

from __future__ import annotations

import string
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..chatbot import Chatbot
from ..exchange import Answer
from . import default_chatbot

__all__ = ["ChatMagics", "interpolate"]


def interpolate(template: str, namespace: dict[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced from ``namespace``; a missing name is a
    :class:`UsageError` naming it, raised before anything is sent."""
    try:
        fields = [
            field for _, field, _, _ in string.Formatter().parse(template) if field is not None
        ]
    except ValueError as malformed:
        raise UsageError(
            f"The prompt has unbalanced braces ({malformed}); write {{{{ and }}}} for literal ones."
        ) from None
    for field in fields:
        name = field.split(".", 1)[0].split("[", 1)[0]
        if not name or name.isdigit():
            raise UsageError(
                f"{{{field}}} in the prompt names no variable; "
                "write {{ and }} for literal braces."
            )
        if name not in namespace:
            raise UsageError(f"{{{name}}} in the prompt: the notebook has no variable {name!r}.")
    try:
        return template.format_map(namespace)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as failed:
        raise UsageError(f"The prompt's placeholders could not be filled: {failed}") from None


def _unquote(value: str) -> str:
    """IPython's magic argument parser keeps the quotes around a value: ``-s 'Be brief.'``."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


@magics_class
class ChatMagics(Magics):
    """``%%chat``, ``%chat_reset`` and ``%chat_history``."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.default: Chatbot | None = None

    def _bot(self, name: str | None) -> Chatbot:
        if name is None:
            if self.default is None:
                self.default = default_chatbot()
            return self.default
        bot = self.shell.user_ns.get(name) if self.shell is not None else None
        if bot is None:
            raise UsageError(f"-b {name}: the notebook has no variable {name!r}.")
        if not isinstance(bot, Chatbot):
            raise UsageError(f"-b {name}: {name!r} is a {type(bot).__name__}, not a Chatbot.")
        return bot

    @magic_arguments()
    @argument("-b", "--bot", metavar="NAME", help="the Chatbot bound to NAME in the notebook")
    @argument("-m", "--model", help="switch the (default or named) bot to this model")
    @argument("-s", "--system", help="set the bot's system prompt")
    @argument("-t", "--temperature", type=float, help="sampling temperature for this answer")
    @argument("--top-p", type=float, help="nucleus sampling for this answer")
    @argument("--max-tokens", type=int, help="token limit of this answer")
    @cell_magic
    def chat(self, line: str, cell: str) -> Answer:
        """Ask the cell's text: ``%%chat [-b NAME] [-m MODEL] [-s SYSTEM] [-t T] ...``."""
        args = parse_argstring(self.chat, line)
        bot = self._bot(args.bot)
        prompt = interpolate(cell.strip(), self.shell.user_ns if self.shell is not None else {})
        if not prompt:
            raise UsageError("%%chat: the cell is empty; write the prompt below the magic line.")
        if args.model:
            bot.model = _unquote(args.model)
        if args.system is not None:
            bot.history.system = _unquote(args.system) or None
        sampling = {
            key: value
            for key, value in {
                "temperature": args.temperature,
                "top_p": args.top_p,
                "max_tokens": args.max_tokens,
            }.items()
            if value is not None
        }
        return bot.ask(prompt, **sampling)

    @magic_arguments()
    @argument("-b", "--bot", metavar="NAME", help="the Chatbot bound to NAME in the notebook")
    @line_magic
    def chat_reset(self, line: str) -> None:
        """Forget the conversation of the default (or ``-b NAME``) bot."""
        args = parse_argstring(self.chat_reset, line)
        if args.bot is None and self.default is not None:
            self.default = None  # a new default bot: picks up a key set since
        elif args.bot is not None:
            self._bot(args.bot).reset()

    @magic_arguments()
    @argument("-b", "--bot", metavar="NAME", help="the Chatbot bound to NAME in the notebook")
    @line_magic
    def chat_history(self, line: str) -> None:
        """Show the conversation of the default (or ``-b NAME``) bot as a transcript, in safe
        mode unless the bot was made with ``safe=False`` (the answers were shown so too)."""
        args = parse_argstring(self.chat_history, line)
        bot = self._bot(args.bot)
        shown, plain = bot.to_markdown(), bot.to_markdown(safe=False)
        display({"text/markdown": shown, "text/plain": plain}, raw=True)


def load_ipython_extension(shell: Any) -> None:
    shell.register_magics(ChatMagics)
