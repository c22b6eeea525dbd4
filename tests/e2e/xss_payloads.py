"""A corpus of cross-site scripting payloads for the fields people write.

Each payload, were it ever to run, calls ``__xss(<its number>)`` (or opens a dialog), so a
browser test can tell which one got through. ``{n}`` in a template stands for the number;
the encoded variants spell the call out in their own encoding.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    """One payload: its number, the text as written, and the family it belongs to."""

    n: int
    text: str
    family: str

    @property
    def marker(self) -> str:
        """Plain words written beside the payload, which every page showing it must display."""
        return f"xss{self.n:03d}"


def _html_decimal(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def _html_hex(text: str) -> str:
    return "".join(f"&#x{ord(c):x};" for c in text)


def _url_encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def _js_unicode(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


# (family, template): ``{n}`` is replaced by the payload's number (str.replace, so the
# braces of template-injection strings stay as they are).
_TEMPLATES: list[tuple[str, str]] = [
    # script tags
    ("script", "<script>__xss({n})</script>"),
    ("script", "<SCRIPT>__xss({n})</SCRIPT>"),
    ("script", "<ScRiPt>__xss({n})</sCrIpT>"),
    ("script", "<script >__xss({n})</script >"),
    ("script", "<script\n>__xss({n})</script\n>"),
    ("script", "<scr<script>ipt>__xss({n})</scr</script>ipt>"),
    ("script", "<<script>script>__xss({n})<</script>/script>"),
    ("script", "<script/xss>__xss({n})</script>"),
    ("script", "<script src=data:text/javascript,__xss({n})></script>"),
    ("script", "<script>/*</script>*/__xss({n})</script>"),
    ("script", "<div><script>__xss({n})</script></div>"),
    ("script", "<script type=module>__xss({n})</script>"),
    ("script", "<script\t>__xss({n})</script>"),
    ("script", "<script>alert({n})</script>"),
    # event handlers on many elements
    ("handler", "<img src=x onerror=__xss({n})>"),
    ("handler", '<img src="x" onerror="__xss({n})">'),
    ("handler", "<IMG SRC=x OnErRoR=__xss({n})>"),
    ("handler", "<img/src=x/onerror=__xss({n})>"),
    ("handler", "<img src=x onerror\n=__xss({n})>"),
    ("handler", "<svg onload=__xss({n})>"),
    ("handler", "<svg/onload=__xss({n})>"),
    ("handler", "<svg><animate onbegin=__xss({n}) attributeName=x dur=1s>"),
    ("handler", "<body onload=__xss({n})>"),
    ("handler", "<details open ontoggle=__xss({n})>"),
    ("handler", "<input autofocus onfocus=__xss({n})>"),
    ("handler", "<select autofocus onfocus=__xss({n})></select>"),
    ("handler", "<textarea autofocus onfocus=__xss({n})></textarea>"),
    ("handler", "<video src=x onerror=__xss({n})></video>"),
    ("handler", "<audio src=x onerror=__xss({n})></audio>"),
    ("handler", "<video><source onerror=__xss({n})></video>"),
    ("handler", "<marquee onstart=__xss({n})>x</marquee>"),
    ("handler", "<div onmouseover=__xss({n})>hover</div>"),
    ("handler", "<a onfocus=__xss({n}) autofocus tabindex=1 href=#>x</a>"),
    ("handler", "<iframe onload=__xss({n})></iframe>"),
    ("handler", "<object data=x onerror=__xss({n})></object>"),
    ("handler", "<style onload=__xss({n})></style>"),
    ("handler", "<link rel=stylesheet href=x onerror=__xss({n})>"),
    ("handler", "<form><button formaction=javascript:__xss({n})>go</button></form>"),
    ("handler", "<keygen autofocus onfocus=__xss({n})>"),
    ("handler", "<img src=x:x onerror=alert({n})>"),
    # javascript:, vbscript: and data: URLs in Markdown and raw HTML
    ("url", "[click](javascript:__xss({n}))"),
    ("url", "[click](JaVaScRiPt:__xss({n}))"),
    ("url", "[click](  javascript:__xss({n}))"),
    ("url", "[click](java\tscript:__xss({n}))"),
    ("url", "[click](javascript&#58;__xss({n}))"),
    ("url", "[click](javascript&colon;__xss({n}))"),
    ("url", "[click](vbscript:msgbox({n}))"),
    ("url", "[click](data:text/html;base64,PHNjcmlwdD5fX3hzcyhuKTwvc2NyaXB0Pg==)"),
    ("url", "[click](data:text/html,<script>__xss({n})</script>)"),
    ("url", "![pic](javascript:__xss({n}))"),
    ("url", "![pic](data:image/svg+xml,<svg/onload=__xss({n})>)"),
    ("url", "[click](<javascript:__xss({n})>)"),
    ("url", '[click](javascript:__xss({n}) "title")'),
    ("url", '<a href="javascript:__xss({n})">click</a>'),
    ("url", '<a href="  JAVASCRIPT:__xss({n})">click</a>'),
    ("url", '<a href="vbscript:msgbox({n})">click</a>'),
    ("url", '<a href="data:text/html,<script>__xss({n})</script>">click</a>'),
    ("url", '<a href="jav&#x09;ascript:__xss({n})">click</a>'),
    # SVG, frames, objects and other active elements
    ("element", "<svg><script>__xss({n})</script></svg>"),
    (
        "element",
        '<svg><use href="data:image/svg+xml,<svg id=x><script>__xss({n})</script></svg>#x"></use></svg>',
    ),
    ("element", "<svg><a xlink:href=javascript:__xss({n})><text y=20>x</text></a></svg>"),
    ("element", "<math><mtext><table><mglyph><style><img src=x onerror=__xss({n})>"),
    ("element", '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>'),
    ("element", "<iframe src=javascript:parent.__xss({n})></iframe>"),
    ("element", "<object data=javascript:__xss({n})></object>"),
    ("element", "<embed src=javascript:__xss({n})>"),
    ("element", '<meta http-equiv="refresh" content="0;url=javascript:__xss({n})">'),
    ("element", '<base href="javascript:__xss({n})//">'),
    ("element", '<form action="javascript:__xss({n})"><input type=submit></form>'),
    ("element", "<isindex action=javascript:__xss({n}) type=image>"),
    ("element", "<template><img src=x onerror=__xss({n})></template>"),
    ("element", '<noscript><p title="</noscript><img src=x onerror=__xss({n})>"></noscript>'),
    # style-based
    ("style", '<div style="width:expression(__xss({n}))">x</div>'),
    ("style", '<div style="background:url(javascript:__xss({n}))">x</div>'),
    ("style", "<style>@import 'javascript:__xss({n})';</style>"),
    ("style", '<style>*{background:url("javascript:__xss({n})")}</style>'),
    # HTML-entity, URL and unicode escapes
    ("encoded", "&lt;script&gt;__xss({n})&lt;/script&gt;"),
    ("encoded", "&#60;script&#62;__xss({n})&#60;/script&#62;"),
    ("encoded", "[click](" + _html_decimal("javascript:") + "__xss({n}))"),
    ("encoded", "[click](" + _html_hex("javascript:") + "__xss({n}))"),
    ("encoded", "[click](" + _url_encoded("javascript:") + "__xss({n}))"),
    ("encoded", "[click](javascript:%5F%5Fxss({n}))"),
    ("encoded", "\\u003cscript\\u003e__xss({n})\\u003c/script\\u003e"),
    ("encoded", "<img src=x onerror=" + _js_unicode("__xss") + "({n})>"),
    ("encoded", "%3Cscript%3E__xss({n})%3C%2Fscript%3E"),
    ("encoded", "<img src=x onerror=&#95;&#95;xss({n})>"),
    ("encoded", "\uff1cscript\uff1e__xss({n})\uff1c/script\uff1e"),
    # broken and unclosed markup
    ("broken", "<img src=x onerror=__xss({n})"),
    ("broken", "<svg onload=__xss({n})//"),
    ("broken", "<script>__xss({n})"),
    ("broken", "<a href='javascript:__xss({n})'>unclosed"),
    ("broken", "<!--<img src=x onerror=__xss({n})>-->"),
    ("broken", "<!-- --!><img src=x onerror=__xss({n})>"),
    ("broken", "<![CDATA[<script>__xss({n})</script>]]>"),
    ("broken", "<p <img src=x onerror=__xss({n})>"),
    # breaking out of attributes, elements and contexts
    ("breakout", '"><script>__xss({n})</script>'),
    ("breakout", "'><script>__xss({n})</script>"),
    ("breakout", '" onmouseover="__xss({n})" x="'),
    ("breakout", "' autofocus onfocus='__xss({n})' x='"),
    ("breakout", "</textarea><script>__xss({n})</script>"),
    ("breakout", "</title><script>__xss({n})</script>"),
    ("breakout", "</option></select><img src=x onerror=__xss({n})>"),
    ("breakout", '</a><a href="javascript:__xss({n})">x</a>'),
    ("breakout", '"-__xss({n})-"'),
    ("breakout", "';__xss({n});//"),
    # template injection
    ("template", "{{7*7}} {{ __xss }} {n}"),
    ("template", "{% debug %} {n}"),
    ("template", "{% load static %}{% now 'Y' %} {n}"),
    ("template", "${__xss({n})}"),
    ("template", "#{__xss({n})} {{constructor.constructor('__xss({n})')()}}"),
    # Markdown-specific
    ("markdown", '![x](x" onerror="__xss({n}))'),
    ("markdown", '[x](x" onmouseover="__xss({n}))'),
    ("markdown", "<javascript:__xss({n})>"),
    ("markdown", "[ref][r{n}]\n\n[r{n}]: javascript:__xss({n})"),
    ("markdown", '[ref][q{n}]\n\n[q{n}]: <javascript:__xss({n})> "t"'),
    ("markdown", "<div>\n<img src=x onerror=__xss({n})>\n</div>"),
    ("markdown", "```\n</code></pre><script>__xss({n})</script>\n```"),
    ("markdown", "`<img src=x onerror=__xss({n})>`"),
    ("markdown", "> <script>__xss({n})</script>"),
    ("markdown", "| a |\n|---|\n| <img src=x onerror=__xss({n})> |"),
    ("markdown", "# <svg onload=__xss({n})>"),
    ("markdown", "*<img src=x onerror=__xss({n})>*"),
    ("markdown", "[![img](javascript:__xss({n}))](javascript:__xss({n}))"),
    ("markdown", '[x](https://example.com/"onmouseover="__xss({n}))'),
    # JSON contexts
    ("json", "</script><script>__xss({n})</script>"),
    ("json", '"}]</script><script>__xss({n})</script>'),
    ("json", "\u2028\u2029</script><script>__xss({n})</script>"),
    ("json", "<!--<script>__xss({n})</script>"),
    # mentions
    ("mention", "@student2<img src=x onerror=__xss({n})>"),
    ("mention", "@<script>__xss({n})</script>"),
]

PAYLOADS: list[Payload] = [
    Payload(n, template.replace("{n}", str(n)), family) for n, (family, template) in enumerate(_TEMPLATES, 1)
]


def short(limit: int) -> list[Payload]:
    """The payloads that fit, with their marker, in a field of ``limit`` characters."""
    return [p for p in PAYLOADS if len(p.marker) + 1 + len(p.text) <= limit]
