"""Sensitive topics in a task: health, sexuality, religion, finances and legal matters.

The collaboration modes send the task to the cloud; a task that states such a matter about
the user ("my bipolar disorder relapse and lithium adjustment") is itself a private fact.
The policy's `private_context.sensitive_task` says what happens: answer locally, generalise
the terms ("a health matter"), or allow. A word list with stems, not a classifier: what it
misses is listed in the README; findings carry categories and offsets, never the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each term is a regex fragment matched case-insensitively on word boundaries.
_TERMS: dict[str, tuple[str, ...]] = {
    "health": (
        r"bipolar(?: disorder)?",
        r"(?:clinical |major |post-?partum )?depression",
        r"depressive",
        r"anxiety disorder",
        r"panic (?:attack|disorder)s?",
        r"ptsd",
        r"ocd",
        r"adhd",
        r"autis(?:m|tic)",
        r"schizo\w*",
        r"eating disorder",
        r"anorexi[ac]",
        r"bulimi[ac]",
        r"mental (?:illness|health|breakdown)",
        r"psychiatr\w*",
        r"therap(?:y|ist)",
        r"counsell?ing",
        r"cancer",
        r"tumou?r",
        r"chemo(?:therapy)?",
        r"radiotherapy",
        r"hiv",
        r"hepatitis",
        r"diabet(?:es|ic)",
        r"epilep(?:sy|tic)",
        r"seizures?",
        r"dementia",
        r"alzheimer'?s",
        r"parkinson'?s",
        r"multiple sclerosis",
        r"heart attack",
        r"miscarriage",
        r"pregnan(?:t|cy)",
        r"abortion",
        r"ivf",
        r"infertil(?:e|ity)",
        r"sexually transmitted",
        r"herpes",
        r"rehab",
        r"addict(?:ion|ed)",
        r"alcoholi(?:c|sm)",
        r"overdose",
        r"relapsed?",
        r"suicid(?:e|al)",
        r"self-harm",
        r"diagnos(?:is|ed)",
        r"surgery",
        r"hospitali[sz](?:ed|ation)",
        r"medications?",
        r"prescriptions?",
        r"dosage",
        r"disorder",
        r"chronic (?:illness|pain|fatigue)",
        r"disabilit(?:y|ies)",
        r"sick leave|medical leave",
        r"lithium",
        r"insulin",
        r"antidepressants?",
        r"antipsychotics?",
        r"opioids?",
        r"prozac|zoloft|xanax|adderall|ritalin|lexapro|wellbutrin|seroquel|abilify|lamictal",
        r"suboxone|methadone|ozempic|truvada",
        # Generic drug names by their stems (sertraline, lorazepam, omeprazole, atorvastatin).
        r"\w{3,}(?:oxetine|traline|azepam|azolam|prazole|statin|olol|pril|sartan|dipine"
        r"|triptyline|apine|idone|formin|gliptin|glutide|cycline|cillin|mycin|trigine|barbital)",
    ),
    "sexuality": (
        r"gay",
        r"lesbian",
        r"bisexual",
        r"transgender",
        r"trans (?:woman|man|person)",
        r"non-?binary",
        r"queer",
        r"lgbt\w*\+?",
        r"homosexual\w*",
        r"coming out",
        r"came out",
        r"sexual orientation",
        r"asexual|pansexual",
        r"sex life",
        r"erectile dysfunction",
    ),
    "religion": (
        r"religio(?:n|us)",
        r"muslim",
        r"islam(?:ic)?",
        r"christian(?:ity)?",
        r"catholic",
        r"protestant",
        r"evangelical",
        r"mormon",
        r"jewish",
        r"judaism",
        r"hindu(?:ism)?",
        r"buddhis[mt]",
        r"sikh",
        r"atheis[mt]",
        r"agnostic",
        r"church",
        r"mosque",
        r"synagogue",
        r"ramadan",
        r"passover|yom kippur",
        r"baptism|baptized|baptised",
        r"bible|quran|koran|torah",
        r"hijab",
        r"kosher|halal",
        r"jehovah'?s witness",
        r"scientolog\w*",
        r"convert(?:ed|ing)? to",
        r"my faith",
    ),
    "finances": (
        r"debts?",
        r"bankrupt(?:cy)?",
        r"loans?",
        r"mortgage",
        r"foreclos(?:ure|ed)",
        r"eviction|evicted",
        r"overdra(?:ft|wn)",
        r"credit score",
        r"payday",
        r"salary",
        r"pay cut",
        r"my income",
        r"my savings",
        r"net worth",
        r"tax return",
        r"unemploy(?:ed|ment)",
        r"on welfare|welfare benefits",
        r"food stamps",
        r"gambling",
        r"behind on (?:rent|payments|bills)",
        r"can'?t afford",
        r"debt collectors?|collections agency",
        r"repossess(?:ed|ion)",
        r"alimony",
        r"child support",
        r"inheritance",
    ),
    "legal": (
        r"lawsuit",
        r"su(?:e|ed|ing) (?:me|my|him|her|them|us)",
        r"arrest(?:ed)?",
        r"convict(?:ed|ion)",
        r"criminal record",
        r"charged with",
        r"dui|dwi",
        r"felony",
        r"misdemeanou?r",
        r"probation",
        r"parole",
        r"jail",
        r"prison",
        r"court (?:date|case|hearing)",
        r"custody",
        r"divorce",
        r"restraining order",
        r"attorney",
        r"lawyer",
        r"subpoena",
        r"immigration status",
        r"undocumented",
        r"deport(?:ed|ation)",
        r"asylum",
        r"on bail|bail hearing",
        r"indicted|indictment",
    ),
    # GDPR art. 9: trade union membership, political opinions, racial or ethnic origin, and
    # genetic or biometric data stated as such.
    "affiliation": (
        r"trade union",
        r"union (?:member(?:ship)?|rep(?:resentative)?|dues|steward)",
        r"party member(?:ship)?",
        r"(?:i|he|she|they) vot(?:e|ed) for",
        r"political (?:views|opinions?|affiliation)",
    ),
    "origin": (
        r"ethnic(?:ity| origin| background)",
        r"racial (?:origin|background)",
        r"my race",
    ),
    "genetic": (
        r"genetic (?:test(?:ing)?|disorder|condition|predisposition|data|marker)s?",
        r"brca[12]?(?: mutation| gene)?",
        r"dna test",
        r"genome sequencing",
        r"carrier (?:of|for) (?:the )?\w+ gene",
    ),
    "biometric": (
        r"fingerprints?",
        r"face ?print|facial (?:geometry|recognition (?:data|template))",
        r"retina(?:l)? scan|iris scan",
        r"voice ?print",
    ),
}

# What a generalised term becomes: the kind of matter, not the matter.
GENERAL = {
    "health": "a health matter",
    "sexuality": "a personal matter",
    "religion": "a personal belief",
    "finances": "a financial matter",
    "legal": "a legal matter",
    "affiliation": "a personal affiliation",
    "origin": "a personal background",
    "genetic": "a health matter",
    "biometric": "a personal identifier",
}
CATEGORIES = tuple(_TERMS)
# The category names a route's `match.found` may list (any case), and the category each
# means; every other entry of `found` is an entity type.
FOUND_CATEGORIES: dict[str, str] = {
    "health": "health",
    "sexuality": "sexuality",
    "religion": "religion",
    "finance": "finances",
    "finances": "finances",
    "legal": "legal",
}

_PATTERNS = {
    category: re.compile(r"(?<![\w-])(?:" + "|".join(terms) + r")(?![\w-])", re.IGNORECASE)
    for category, terms in _TERMS.items()
}
# Terms of one category separated only by spaces or hyphens form one matter
# ("bipolar disorder relapse" → "a health matter").
_JOIN = re.compile(r"^[\s\-/]*$")


@dataclass(frozen=True)
class Topic:
    category: str
    start: int
    end: int


def sensitive_topics(text: str) -> list[Topic]:
    """Sensitive terms of `text` by category, adjacent terms of one category merged."""
    found = sorted(
        (
            Topic(category, m.start(), m.end())
            for category, p in _PATTERNS.items()
            for m in p.finditer(text)
        ),
        key=lambda t: (t.start, -t.end),
    )
    merged: list[Topic] = []
    for topic in found:
        last = merged[-1] if merged else None
        if last is not None and topic.start < last.end:
            if topic.end > last.end:
                merged[-1] = Topic(last.category, last.start, topic.end)
            continue
        if (
            last is not None
            and last.category == topic.category
            and _JOIN.match(text[last.end : topic.start])
        ):
            merged[-1] = Topic(last.category, last.start, topic.end)
            continue
        merged.append(topic)
    return merged


def categories(topics: list[Topic]) -> list[str]:
    return sorted({topic.category for topic in topics})


_POSSESSIVE = re.compile(r"(?:^|\W)(?:my|his|her|their|our|your|a|an|the)\s+$", re.IGNORECASE)


def generalise(text: str, topics: list[Topic] | None = None) -> str:
    """`text` with each sensitive matter replaced by its kind ("a health matter"; after
    "my" or an article: "my health matter")."""
    topics = sensitive_topics(text) if topics is None else topics
    out, last = [], 0
    for topic in topics:
        before = text[last : topic.start]
        general = GENERAL[topic.category]
        if _POSSESSIVE.search(text[max(0, topic.start - 8) : topic.start]):
            general = general.removeprefix("a ")
        out.append(before)
        out.append(general)
        last = topic.end
    out.append(text[last:])
    return "".join(out)
