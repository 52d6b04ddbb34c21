"""PERSON names in Han, kana/kanji, Hangul, Cyrillic, Arabic and Devanagari text (and
Hebrew, Greek and Thai: `world/scripts.py`).

No multilingual NER model is installable, so names are found by script-aware rules: the
most frequent surnames and given names of each script (small hand-made lists; the Cyrillic
given names of `names-dataset` join them through `world/`'s compact file), plus the context
that marks a name in each language — honorifics (さん/様, 씨/님, जी/श्री), Russian patronymics and
surname endings with their case forms, Arabic `بن`/`ابن`. Each script's rule runs only on a
text that holds a character of that script (one cheap search first).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import regex
from cogate.policies.recognizers.base import trie_regex
from cogate.policies.recognizers.world.scripts import cyrillic_given, greek, hebrew, thai
from presidio_analyzer import EntityRecognizer, RecognizerResult

# -- Chinese -----------------------------------------------------------------------------
_ZH_SURNAMES_TEXT = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 "
    "彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 "
    "石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 "
    "万 钱 严 覃 武 戴 莫 孔 向 汤 張 劉 陳 楊 黃 趙 吳 孫 馬 鄭 謝 許 韓 馮 鄧 蕭 葉 蘇 呂 盧 "
    "鍾 譚 陸 賈 欧阳 司马 诸葛 上官 东方 皇甫 歐陽 司馬 諸葛"
)
_ZH_SURNAMES = _ZH_SURNAMES_TEXT.split()
# Characters that end a given name: particles, verbs and pronouns that follow a name.
_ZH_STOP = set(
    "的了是在和与跟说把给让请我你他她们吗呢吧也都就还要会能去来到对从向被很已经这那有没不和及或等"
)
_ZH_TITLES = (
    "先生|女士|小姐|老师|经理|总|同学|教授|医生|博士|主任|师傅|阿姨|叔叔|律师|同志|老板|局长|"
    "科长|处长|部长|董事长|總|經理|老師|醫生"
)
_ZH_CUES = (
    "给|跟|和|与|叫|请|告诉|通知|问|找|让|是|见|联系|向|对|替|帮|被|由|交给|发给|转给|打给|"
    "寄给|恭喜|感谢|谢谢|致|亲爱的|尊敬的|我叫|名叫|姓名|名字是|給|讓|請|問|見|聯繫|發給|轉給|"
    "寄給|謝謝|親愛的|尊敬的"
)
_ZH_NAME = regex.compile(
    rf"(?:(?<=(?:{_ZH_CUES})[：:\s]?)|(?<![\p{{Han}}]))"
    rf"((?:{'|'.join(sorted(_ZH_SURNAMES, key=len, reverse=True))})"
    rf"[\p{{Han}}]{{1,2}})"
)


def _chinese(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _ZH_NAME.finditer(text):
        start, end = match.span(1)
        surname = next(s for s in _ZH_SURNAMES if text.startswith(s, start) and len(s) > 0)
        given = text[start + len(surname) : end]
        # Trim particles the greedy given name took ("张伟的" → "张伟").
        while given and given[-1] in _ZH_STOP:
            given, end = given[:-1], end - 1
        if not given or given[0] in _ZH_STOP:
            continue
        before = text[max(0, start - 4) : start]
        after = text[end : end + 4]
        cue = regex.search(rf"(?:{_ZH_CUES})[：:\s]?$", before) is not None
        title = regex.match(rf"(?:{_ZH_TITLES})", after) is not None
        edge = start == 0 or not regex.match(r"\p{Han}", text[start - 1])
        if cue or title or (edge and (end == len(text) or not regex.match(r"\p{Han}", after))):
            yield start, end, 0.7 if (cue or title) else 0.5


# -- Japanese ----------------------------------------------------------------------------
_JA_SURNAMES_TEXT = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 "
    "木村 林 斎藤 斉藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 "
    "藤田 後藤 近藤 村上 遠藤 青木 坂本 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 "
    "松田 竹内 小野 田村 中山 和田 石田 森田 上田 原 柴田 酒井 工藤 横山 宮崎 宮本 内田 高木 "
    "安藤 島田 谷口 大野 高田 丸山 今井 河野 藤本 村田 武田 上野 杉山 増田 小山 大塚 平野 菅原 "
    "久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地 野村 新井 渡部 山内 西田 菊池 北村 安田 中田"
)
_JA_SURNAMES = _JA_SURNAMES_TEXT.split()
_JA_HONORIFIC = r"(?:さん|様|さま|くん|君|ちゃん|氏|先生|殿|部長|課長|社長|先輩)"
# A name before an honorific: kanji, or katakana (foreign names), or a kanji surname and
# a kana given name.
_JA_BEFORE_HONORIFIC = regex.compile(
    rf"((?:\p{{Han}}{{1,4}}|[\p{{Katakana}}ー・]{{2,12}})(?:[\p{{Hiragana}}]{{1,3}}(?=\s*{_JA_HONORIFIC}))?)"
    rf"\s*{_JA_HONORIFIC}"
)
_JA_SURNAME = regex.compile(
    rf"(?<![\p{{Han}}])({trie_regex(_JA_SURNAMES)})(\p{{Han}}{{1,2}})?(?![\p{{Han}}])"
)
# Kanji words of two or more characters that an honorific may follow but that are not
# names: "皆さん" (everyone), "お客様" (customer), "神様".
_JA_NOT_NAME = {
    "皆",
    "客",
    "神",
    "王",
    "奥",
    "皆様",
    "お客",
    "子供",
    "先生",
    "患者",
    "生徒",
    "社員",
}


def _japanese(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _JA_BEFORE_HONORIFIC.finditer(text):
        start, end = match.span(1)
        name = text[start:end]
        # A surname inside a longer kanji run ("昨日田中"): start at the surname.
        for surname in _JA_SURNAMES:
            at = name.find(surname)
            if at > 0:
                start += at
                break
        if text[start:end] not in _JA_NOT_NAME:
            yield start, end, 0.7
    for match in _JA_SURNAME.finditer(text):
        if match.group(2):  # surname + given name in kanji: "田中太郎"
            yield match.start(), match.end(), 0.6


# -- Korean ------------------------------------------------------------------------------
_KO_SURNAMES_TEXT = (
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 "
    "심 노 하 곽 성 차 주 우 구 민 진 나 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 "
    "마 길 연 위 표 명 기 반 왕 금 옥 육 인 맹 제 모 탁 국 어 은 편 용 남궁 황보 제갈 선우 "
    "독고"
)
_KO_SURNAMES = _KO_SURNAMES_TEXT.split()
_KO_AFTER = (
    r"(?:씨|님|선생님?|교수님?|박사님?|대리님?|과장님?|"
    r"부장님?|사장님?|팀장님?|에게|한테|께서|께|이에게)"
)
_KO_NAME = regex.compile(
    rf"(?<!\p{{Hangul}})((?:{'|'.join(sorted(_KO_SURNAMES, key=len, reverse=True))})"
    rf"\p{{Hangul}}{{1,2}})\s?{_KO_AFTER}"
)
_KO_INTRO = regex.compile(
    r"(?:제 이름은|저는|이름:|성함은?)\s*(\p{Hangul}{2,4}?)(?:입니다|이에요|예요|이고|\s|[.,]|$)"
)


def _korean(text: str) -> Iterable[tuple[int, int, float]]:
    for pattern in (_KO_NAME, _KO_INTRO):
        for match in pattern.finditer(text):
            yield match.start(1), match.end(1), 0.7


# -- Cyrillic (Russian, Ukrainian) -------------------------------------------------------
_RU_GIVEN_TEXT = (
    "Иван Пётр Петр Алексей Сергей Андрей Дмитрий Михаил Николай Владимир Александр Евгений "
    "Юрий Олег Игорь Павел Максим Артём Артем Антон Виктор Василий Борис Григорий Фёдор Федор "
    "Константин Роман Денис Илья Кирилл Никита Егор Тимур Вадим Руслан Глеб Лев Степан Богдан "
    "Тарас Остап Ольга Анна Мария Елена Наталья Татьяна Ирина Светлана Екатерина Юлия "
    "Анастасия Дарья Ксения Полина Алина Виктория Людмила Галина Надежда Вера Любовь Марина "
    "Оксана Софья София Валентина Нина Лариса Зоя Тамара Алёна Алена Кристина Яна Олеся Дмитро "
    "Микола Олена Ганна Маша Саша Петя Ваня Коля Лена Таня Наташа Катя Оля Аня Женя Миша Дима "
    "Серёжа Андрій Сергій Олександр Володимир Юлія Ірина Наталія"
)
_RU_GIVEN = _RU_GIVEN_TEXT.split()
_RU_ENDINGS = ("а", "у", "ом", "е", "ой", "ы", "и", "ю", "ей", "ем", "ем", "ию", "ии", "ия")


def _ru_forms(name: str) -> set[str]:
    """The name and its case forms, by the declension its ending implies (Russian and
    Ukrainian: "Юлия"/"Юлії", "Андрій"/"Андрієм", "Тарас"/"Тарасові")."""
    forms = {name}
    if name.endswith(("ий", "ій")):
        forms |= {name[:-1] + e for e in ("я", "ю", "ем", "и", "єм", "ї")}
    elif name.endswith("й"):
        forms |= {name[:-1] + e for e in ("я", "ю", "ем", "е", "єм")}
    elif name.endswith(("ья", "ия", "я", "ія")):
        forms |= {name[:-1] + e for e in ("и", "е", "ю", "ей", "ї", "єю", "ею")}
    elif name.endswith("а"):
        forms |= {name[:-1] + e for e in ("ы", "и", "е", "у", "ой", "і", "ою")}
    elif name.endswith("ь"):
        forms |= {name[:-1] + e for e in ("я", "ю", "ем", "е")}
    else:
        forms |= {name + e for e in ("а", "у", "ом", "е", "ові")}
    return forms


_RU_GIVEN_FORMS = sorted({f for n in _RU_GIVEN for f in _ru_forms(n)}, key=len, reverse=True)
_RU_GIVEN_SET = frozenset(_RU_GIVEN_FORMS)
_CYR_WORD = r"\p{Lu}[\p{Ll}\u0301]+(?:-\p{Lu}[\p{Ll}]+)?"
# Surname endings (-ов, -ев, -ин, -ский, -енко, -ук...) and patronymics, in any case form.
_RU_SURNAME = (
    r"\p{Lu}\p{Ll}+(?:ов|ёв|ев|ин|ын|ова|ёва|ева|ина|ына|ову|еву|ину|овым|евым|иным|"
    r"овой|евой|иной|овых|ских|ский|цкий|ская|цкая|ского|цкого|скому|цкому|ской|цкой|ским|"
    r"ський|цький|ська|цька|ського|цького|ському|ській|ським|"
    r"енко|енка|енку|енком|енкові|[чю]ук|[чю]ука|[чю]уку|[чю]уком|[чю]укові|вич|вна|ична)"
    r"(?![\p{L}])"
)
_RU_PATRONYMIC = (
    r"\p{Lu}\p{Ll}+(?:(?:ович|евич|ич)(?:а|у|ем|ом|е)?|"
    r"(?:овн|евн|ичн|иничн)(?:а|ы|е|у|ой|ою|і|ій))"
)
_RU_GIVEN_RE = rf"(?:{trie_regex(_RU_GIVEN_FORMS, fold=False)})(?![\p{{L}}])"
_RU_NAME = regex.compile(
    rf"(?<![\p{{L}}])(?:{_RU_GIVEN_RE}(?:\s+{_RU_PATRONYMIC})?(?:\s+{_CYR_WORD})?|"
    rf"{_RU_SURNAME}(?:\s+{_RU_GIVEN_RE}(?:\s+{_RU_PATRONYMIC})?)?)"
)


def _opens_sentence(text: str, start: int) -> bool:
    before = text[max(0, start - 8) : start].rstrip(" \t")
    return start == 0 or not before or before[-1] in '.!?…\n"«(:'


def _cyrillic(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _RU_NAME.finditer(text):
        lone = not any(c.isspace() for c in match.group())
        # One capitalised word opening a sentence ("Один", "Берлин") is no evidence.
        if lone and _opens_sentence(text, match.start()) and match.group() not in _RU_GIVEN_SET:
            continue
        yield match.start(), match.end(), 0.7
    for match in _world_cyrillic().finditer(text):
        yield match.start(), match.end(), 0.65


@lru_cache(maxsize=1)
def _world_cyrillic() -> regex.Pattern:
    """A given name of the dataset (any case form) with a capitalised word after it: the
    dataset's names include words ("Роман", "Вера"), which never count alone."""
    forms = sorted({f for n in cyrillic_given() for f in _ru_forms(n)}, key=len, reverse=True)
    return regex.compile(
        rf"(?<![\p{{L}}])(?:{trie_regex(forms, fold=False)})\s+{_CYR_WORD}(?![\p{{L}}])"
    )


# -- Arabic ------------------------------------------------------------------------------
_AR_GIVEN_TEXT = (
    "محمد أحمد احمد علي حسن حسين خالد عمر يوسف إبراهيم ابراهيم عبدالله مصطفى محمود ناصر رشيد "
    "وليد هشام عماد طارق سامي ماجد فيصل زياد ياسر حمزة بلال عثمان سلمان فهد سلطان منصور رامي "
    "باسم أيمن ايمن مروان سارة فاطمة مريم عائشة ليلى زينب سلمى رانيا ياسمين منى ريم دينا نادية "
    "هند لينا رنا نورة خديجة آمنة حنان إيمان ايمان"
)
_AR_GIVEN = _AR_GIVEN_TEXT.split()
_AR_GIVEN_RE = "|".join(sorted(_AR_GIVEN, key=len, reverse=True))
# A given name (after an optional و/ل/ب prefix), then a second name, a `بن` chain or a
# family name with ال.
_AR_NAME = regex.compile(
    rf"(?<![\p{{Arabic}}])(?:[وبل]|لل)?((?:عبد\s?ال\p{{Arabic}}+|{_AR_GIVEN_RE})"
    rf"(?:\s+(?:بن|ابن|بنت)\s+\p{{Arabic}}{{2,}}|\s+(?:{_AR_GIVEN_RE}|ال\p{{Arabic}}{{3,}}))*)"
    rf"(?![\p{{Arabic}}])"
)


def _arabic(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _AR_NAME.finditer(text):
        yield match.start(1), match.end(1), 0.65


# -- Devanagari (Hindi, Marathi, Nepali) --------------------------------------------------
_HI_GIVEN_TEXT = (
    "राहुल प्रिया अमित सुनील अनिल राज रवि विजय संजय अजय दीपक मनोज सुरेश रमेश महेश राकेश मुकेश "
    "अशोक अरुण विकास आकाश रोहित सचिन विशाल गौरव अंकित नितिन प्रकाश गीता सीता पूजा नेहा अंजलि "
    "सुनीता अनीता कविता आरती राधा लक्ष्मी सरिता रेखा ममता प्रियंका दिव्या स्नेहा श्वेता ज्योति "
    "रीता मीना आशा उषा"
)
_HI_GIVEN = _HI_GIVEN_TEXT.split()
_HI_SURNAMES_TEXT = (
    "शर्मा वर्मा सिंह कुमार पटेल गुप्ता यादव जैन मिश्रा तिवारी पांडे पाण्डेय चौधरी अग्रवाल "
    "मेहता शाह रेड्डी नायर राव दास बनर्जी मुखर्जी चटर्जी जोशी श्रीवास्तव सक्सेना कपूर खन्ना "
    "मल्होत्रा चौहान ठाकुर देसाई कुलकर्णी पाटिल"
)
_HI_SURNAMES = _HI_SURNAMES_TEXT.split()
_HI_WORD = r"[\p{Devanagari}--[।॥]]+"
_HI_KNOWN = "|".join(sorted(_HI_GIVEN + _HI_SURNAMES, key=len, reverse=True))
_HI_NAME = regex.compile(
    rf"(?V1)(?<![\p{{Devanagari}}])(?:(?:श्री|श्रीमती|सुश्री|कुमारी|डॉ\.?|डा\.)\s+{_HI_WORD}(?:\s+{_HI_WORD})?|"
    rf"(?:{_HI_KNOWN})(?:\s+(?:{_HI_KNOWN}))*(?![\p{{Devanagari}}])|{_HI_WORD}(?=\s*जी(?![\p{{Devanagari}}])))"
)


def _devanagari(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _HI_NAME.finditer(text):
        yield match.start(), match.end(), 0.65


_SCRIPTS = [
    (regex.compile(r"\p{Han}"), _chinese),
    (regex.compile(r"[\p{Hiragana}\p{Katakana}\p{Han}]"), _japanese),
    (regex.compile(r"\p{Hangul}"), _korean),
    (regex.compile(r"\p{Cyrillic}"), _cyrillic),
    (regex.compile(r"\p{Arabic}"), _arabic),
    (regex.compile(r"\p{Devanagari}"), _devanagari),
    (regex.compile(r"\p{Hebrew}"), hebrew),
    (regex.compile(r"\p{Greek}"), greek),
    (regex.compile(r"\p{Thai}"), thai),
]


class ScriptNameRecognizer(EntityRecognizer):
    """Names in non-Latin scripts (see the module's docstring for the cues)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="ScriptNameRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if text.isascii():
            return []
        spans: dict[tuple[int, int], float] = {}
        for present, find in _SCRIPTS:
            if present.search(text) is None:
                continue
            for start, end, score in find(text):
                if end > start:
                    spans[(start, end)] = max(score, spans.get((start, end), 0.0))
        return [
            RecognizerResult(
                "PERSON",
                start,
                end,
                score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for (start, end), score in spans.items()
        ]
