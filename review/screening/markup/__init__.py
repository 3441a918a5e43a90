"""Rich-text markup: sanitising and checks for content screening.

Why: education-bureau sites are a favourite target of SEO spammers. Whoever gets hold of an
editor account (or pastes from a compromised page) injects gambling and porn links hidden from
human readers with CSS, or scripts that redirect visitors. A reviewer looking at the rendered
page cannot see hidden text, so the screener has to look at the markup itself.

Three plain functions, no Django, no database:

* ``sanitise_rich_text`` -- bleach with an allow-list fitted to Wagtail's rich-text *database*
  format for the Draftail features we enable (h2 h3 h4 bold italic ol ul link hr). Script-like
  elements are removed together with their content, which bleach alone would keep as text.
* ``screening_text`` -- the HTML with all markup blanked and character references decoded, of
  exactly the same length, so a word found in it has offsets into the original source.
* ``find_markup_problems`` -- hidden content (CSS, ``hidden``, tiny marquees and iframes,
  ``<style>`` rules hiding a class) and unsafe markup (scripts, event handlers, script URLs,
  frames, redirects), each with offsets into the HTML given.

The tokeniser is a set of compiled regular expressions that follow the HTML5 tokeniser where it
matters for security: attribute quoting, raw-text elements (script, style, iframe, noscript...),
comments, and SVG/MathML foreign content where none of those is raw text. So markup a browser
would run cannot hide in what we take for an attribute value or a style sheet. Malformed input
never raises, and every pattern and loop is linear (adversarial 50 KB inputs take milliseconds).

Modules, from the bottom up: ``tokeniser`` (the hand-written HTML tokeniser), ``text``
(``screening_text``), ``css`` (declarations, style sheets, what hides text), ``rules`` (rule
names, ``MarkupFinding``, link, URL and script checks), ``scan`` (``find_markup_problems``),
``balance`` (closing every element in order and bounding the nesting, so that bleach's parser
runs in linear time), and ``sanitise`` (``sanitise_rich_text``, bleach on balanced markup).
Import from the modules; this package module imports none of them.
"""
