"""The adversarial suite's cases, by leak class of issue 13 (data only; bench/adversarial.py
runs them). Every value here is invented; cards and routing numbers are public test numbers.

A case names the substrings ("tells") that must not appear in what leaves; a class-8 case
names the words that must survive; the no-PII set must come back unchanged.
"""

# ruff: noqa: E501  (a table of literal cases reads best one case per line)
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    leak_class: int
    kind: str  # text | parts | body | keep | sketch | restore | stream
    payload: Any
    tells: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def text(cls: int, value: str, *tells: str) -> Case:
    return Case(cls, "text", value, tells)


def tool_args(args: str) -> dict[str, Any]:
    """A chat body whose assistant turn calls a tool with `args` (JSON text)."""
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Please file the form."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "submit_form", "arguments": args},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        ],
    }


def tool_result(content: str) -> dict[str, Any]:
    body = tool_args("{}")
    body["messages"][2]["content"] = content
    return body


def chat(user: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": user}], **extra}


# -- 1: numbers in JSON ------------------------------------------------------------------
CLASS_1 = [
    Case(1, "body", tool_args('{"card_number": 4111111111111111}'), ("4111111111111111",)),
    Case(
        1, "body", tool_args('{"phone": 4155550199, "ssn": 536228841}'), ("4155550199", "536228841")
    ),
    Case(
        1, "body", tool_result('{"card": 5555555555554444, "status": "ok"}'), ("5555555555554444",)
    ),
    Case(1, "body", tool_result('{"ssn": 536228841}'), ("536228841",)),
    Case(1, "body", tool_args('{"routing": 21000021, "account": 123456789012}'), ("123456789012",)),
    Case(1, "body", chat("hi", metadata={"phone": 4155550199}), ("4155550199",)),
    Case(1, "body", chat("hi", metadata={"card": 378282246310005}), ("378282246310005",)),
    Case(1, "body", tool_args('{"cc": 6011111111111117, "exp": 1227}'), ("6011111111111117",)),
    Case(1, "body", tool_args('{"user": {"ssn": 536228841}}'), ("536228841",)),
    Case(1, "body", tool_args('{"numbers": [4111111111111111]}'), ("4111111111111111",)),
    Case(1, "body", tool_result('[{"phone": 4155550199}]'), ("4155550199",)),
    Case(1, "body", tool_args('{"mobile": 447700900123}'), ("447700900123",)),
    Case(1, "body", tool_args('{"card_number": 4.111111111111111e15}'), ("4.111111111111111e15",)),
    Case(
        1, "body", tool_result('{"social_security_number": 536228841, "ok": true}'), ("536228841",)
    ),
]

# -- 2: secrets in configuration text ----------------------------------------------------
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ7rT9vB2k"
_RSA_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7Qk\n"
    "rmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/V\n"
)
CLASS_2 = [
    text(2, "DB_PASSWORD=Tr0ub4dor3xyz", "Tr0ub4dor3xyz"),
    text(2, f"AWS_SECRET_ACCESS_KEY={_AWS_SECRET}", _AWS_SECRET),
    text(2, "OPENAI_API_KEY=sk-proj-Zq8Xw2Lm4Np6Rt0Vb3Hc5Jd7Kf9Gs1", "Zq8Xw2Lm4Np6Rt0Vb3Hc5Jd7"),
    text(2, "STRIPE_SECRET_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXyZ", "51HqLyjWDarjtT1zdp7dcXyZ"),
    text(
        2,
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: 'Kx9!mPq2#vL'",
        "Kx9!mPq2#vL",
    ),
    text(2, "export PGPASSWORD=hunter2go\npsql -h db", "hunter2go"),
    text(2, "database:\n  user: app\n  password: abc12\n", "abc12"),
    text(
        2,
        "Why does my map not load? key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        "AIzaSyD-9tSrke72PouQMnMX",
    ),
    text(2, "charge with rk_live_51HqLyjWDarjtT1zdp7dcXyZab please", "51HqLyjWDarjtT1zdp7dcXyZab"),
    text(2, "the key sk_live_4eC39HqLyjWDarjtT1zdp7dc fails", "4eC39HqLyjWDarjtT1zdp7dc"),
    text(
        2, "app-level token xapp-1-A0123456789-1234567890123-abcdef0123456789", "xapp-1-A0123456789"
    ),
    text(2, "HF_TOKEN is hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz"),
    text(
        2,
        "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz",
    ),
    text(
        2,
        "sendgrid: 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",
        "SG.ngeVfQFYQlKU0ufo8x5d1A",
    ),
    text(2, f"this is my aws secret {_AWS_SECRET} is it valid?", _AWS_SECRET),
    text(
        2,
        "~/.aws/credentials:\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        f"aws_secret_access_key = {_AWS_SECRET}\n",
        _AWS_SECRET,
        "AKIAIOSFODNN7EXAMPLE",
    ),
    text(
        2,
        f"my key file has:\n{_RSA_BODY}what format is this?",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t",
    ),
    text(2, '{"db": {"password": "s3cr3t-Passw0rd"}}', "s3cr3t-Passw0rd"),
    text(2, "[mysql]\npassword = Kz7#pQ1x\nhost = db", "Kz7#pQ1x"),
    text(2, "REDIS_PASS=r3disPa55", "r3disPa55"),
    text(2, 'SMTP_PASSWORD="mail pass 42"', "mail pass 42"),
    text(2, "JWT_SECRET=9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c", "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"),
    text(
        2, "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "ghp_abcdefghijklmnopqrstuvwxyz"
    ),
    text(2, "ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv", "AbCdEfGhIjKlMnOpQrStUv"),
    text(2, "SLACK_BOT_TOKEN=xoxb-123456789012-abcdefABCDEF", "abcdefABCDEF"),
    text(2, "DJANGO_SECRET_KEY='django-insecure-8x#k2m!q9z@w4p'", "8x#k2m!q9z@w4p"),
    text(2, "docker run -e MYSQL_ROOT_PASSWORD=Rt9pass2024 mysql", "Rt9pass2024"),
    text(2, 'client_secret: "GOCSPX-1a2B3c4D5e6F7g8H9i0J"', "GOCSPX-1a2B3c4D5e6F7g8H9i0J"),
    text(2, "password => 'p4ssw0rd!'", "p4ssw0rd!"),
    text(2, "conn = connect(host='db', password='Qw3rty!9')", "Qw3rty!9"),
]

# -- 3: separators, glued digits, splits -------------------------------------------------
CLASS_3 = [
    text(3, "card 4111\u20131111\u20131111\u20131111 please", "1111\u20131111\u20131111"),
    text(3, "card 4111\u20141111\u20141111\u20141111", "1111\u20141111"),
    text(3, "ssn 536\u201322\u20138841", "8841"),
    text(3, "my ssn is 536\u221222\u22128841", "8841"),
    text(3, "card 4111_1111_1111_1111", "1111_1111"),
    text(3, "card 4111/1111/1111/1111", "1111/1111"),
    text(3, "ref:card4111111111111111exp1227", "4111111111111111"),
    text(3, "pay with 4111.1111.1111.1111 today", "1111.1111", "4111"),
    text(3, "ssn 536_22_8841", "8841"),
    text(3, "ssn 536/22/8841", "8841"),
    text(3, "ssn 536.22.8841", "8841"),
    text(3, "id:ssn536228841;ok", "536228841"),
    text(3, "amex 3782\u2013822463\u201310005", "822463"),
    text(3, "mc 5555 \u2013 5555 \u2013 5555 \u2013 4444", "5555 \u2013 4444"),
    text(3, "order cc#5555555555554444x", "5555555555554444"),
    text(3, "card 4111 1111 1111 1111 (exp 12/27)", "1111 1111"),
    Case(3, "parts", ["My card is 4111 1111", "1111 1111, thanks"], ("1111 1111",)),
    Case(3, "parts", ["Please greet Marg", "aret Thornbury."], ("Thornbury", "Marg")),
    Case(
        3,
        "parts",
        ["mail eleanor.vance@hill", "house.example.com"],
        ("eleanor.vance", "house.example"),
    ),
    Case(3, "parts", ["ssn 536-22-", "8841"], ("8841", "536-22")),
    text(3, "first half of my card: 4111 1111, second half: 1111 1111", "1111, second"),
    text(3, "phone\u2011number +1\u2011415\u2011555\u20110199", "555\u20110199"),
]

# -- 4: fields not scanned ---------------------------------------------------------------
CLASS_4 = [
    Case(
        4,
        "body",
        tool_args('{"scores": {"eleanor.vance@hillhouse.example.com": 3}}'),
        ("eleanor.vance",),
    ),
    Case(4, "body", chat("hi", metadata={"Margaret Thornbury": "vip"}), ("Thornbury",)),
    Case(
        4,
        "body",
        chat(
            "hi", tool_choice={"type": "function", "function": {"name": "call_Margaret_Thornbury"}}
        ),
        ("Thornbury",),
    ),
    Case(
        4,
        "body",
        chat(
            "hi",
            stream_options={"include_usage": True, "note": "eleanor.vance@hillhouse.example.com"},
        ),
        ("eleanor.vance",),
    ),
    Case(4, "body", chat("hi", logit_bias={"Thornbury": 5}), ("Thornbury",)),
    Case(
        4,
        "body",
        chat("hi", model="gpt-4o-eleanor.vance@hillhouse.example.com"),
        ("eleanor.vance",),
    ),
    Case(
        4,
        "body",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi", "name": "Margaret_Thornbury"}],
        },
        ("Thornbury",),
    ),
    Case(
        4,
        "body",
        {
            "model": "gpt-4o",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "hi", "note": "Margaret Thornbury"}],
                }
            ],
        },
        ("Thornbury",),
    ),
    Case(
        4,
        "body",
        chat(
            "hi",
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "email_margaret_thornbury",
                        "parameters": {"type": "object"},
                    },
                }
            ],
        ),
        ("thornbury",),
    ),
    Case(
        4,
        "body",
        chat(
            "hi",
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {
                            "type": "object",
                            "properties": {"id": {"type": "string", "pattern": "^536-22-8841$"}},
                        },
                    },
                }
            ],
        ),
        ("536-22-8841",),
    ),
    Case(4, "body", chat("hi", service_tier="Margaret Thornbury"), ("Thornbury",)),
    Case(4, "body", chat("hi", modalities=["text", "Margaret Thornbury"]), ("Thornbury",)),
    Case(
        4,
        "body",
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "tool", "tool_call_id": "call_Margaret_Thornbury", "content": "ok"}
            ],
        },
        ("Thornbury",),
    ),
    Case(4, "body", tool_args('{"contacts": {"Margaret Thornbury": {"tier": 1}}}'), ("Thornbury",)),
]

# -- 5: recognition misses ---------------------------------------------------------------
CLASS_5 = [
    text(5, "请把报告发给张伟", "张伟"),
    text(5, "明天和李娜开会", "李娜"),
    text(5, "王秀英女士的电话是多少？", "王秀英"),
    text(5, "我叫陈建国，住在上海。", "陈建国"),
    text(5, "田中さんに連絡してください", "田中"),
    text(5, "山田太郎様へのメールを書いて", "山田太郎"),
    text(5, "佐藤花子さんの誕生日は来週です", "佐藤花子"),
    text(5, "김민준 씨에게 전화하세요", "김민준"),
    text(5, "박서연님께 보고서를 보내 주세요", "박서연"),
    text(5, "제 이름은 이지훈입니다", "이지훈"),
    text(5, "Напиши письмо Ивану Петрову", "Ивану", "Петрову"),
    text(5, "Позвони Ольге Смирновой завтра", "Ольге", "Смирновой"),
    text(5, "Встреча с Сергеем Ивановичем Кузнецовым в 10", "Сергеем", "Кузнецовым"),
    text(5, "Передай Анне, что отчёт готов", "Анне"),
    text(5, "أرسل التقرير إلى محمد العلي", "محمد"),
    text(5, "اتصل بفاطمة الزهراء غدا", "فاطمة"),
    text(5, "قابلت أحمد بن سعيد في المكتب", "أحمد"),
    text(5, "कृपया राहुल शर्मा को फोन करें", "राहुल", "शर्मा"),
    text(5, "श्रीमती सुनीता वर्मा से मिलें", "सुनीता"),
    text(5, "प्रिया जी को ईमेल भेजें", "प्रिया"),
    text(5, "Ask Priya to call back.", "Priya"),
    text(5, "tell nguyen that the car is ready", "nguyen"),
    text(5, "Remind Oluwaseun about the invoice.", "Oluwaseun"),
    text(5, "cc Dmitri on the thread", "Dmitri"),
    text(5, "Ship it to 221B Baker Street, London NW1 6XE", "221B Baker", "NW1 6XE"),
    text(
        5,
        "Our office: 1600 Pennsylvania Ave NW, Washington, DC 20500",
        "1600 Pennsylvania",
        "20500",
    ),
    text(5, "send the parcel to 42 Elm Street, Springfield, IL 62704", "42 Elm", "62704"),
    text(5, "postcode SW1A 1AA please", "SW1A 1AA"),
    text(5, "my laptop's MAC is 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
    text(5, "router mac 3c-22-fb-7a-91-0e", "3c-22-fb-7a-91-0e"),
    text(5, "my passport number is C01X00T47 (German)", "C01X00T47"),
    text(5, "UK passport no. 925076473", "925076473"),
    text(5, "my NI number is AB 12 34 56 C", "12 34 56"),
    text(5, "National insurance: JG103719A", "JG103719A"),
    text(5, "routing number 021000021, account 12345678", "021000021"),
    text(5, "ABA 011000015 for the wire", "011000015"),
    text(5, "meet me at 40.7484, -73.9857", "40.7484", "-73.9857"),
    text(5, "home is at 51°30'26\"N 0°7'39\"W", "51°30'26"),
    text(5, "my github is eleanor-vance-87", "eleanor-vance-87"),
    text(5, "follow me on twitter: @evance_writes", "evance_writes"),
]

# Written after the rules were tuned and not used to tune them: an honest estimate of how the
# rules generalise (reported separately as "held out").
CLASS_5_HELD_OUT = [
    Case(5, "text", t, tells, note="held out")
    for t, tells in [
        ("请联系刘洋经理", ("刘洋",)),
        ("周杰先生明天到", ("周杰",)),
        ("鈴木一郎さんと会議があります", ("鈴木",)),
        ("이서준 님 안녕하세요", ("이서준",)),
        ("Передайте Дмитрию Соколову привет", ("Дмитрию", "Соколову")),
        ("Письмо от Натальи Волковой", ("Натальи", "Волковой")),
        ("تحدثت مع خالد الراشد", ("خالد",)),
        ("सुरेश कुमार जी आएंगे", ("सुरेश",)),
        ("Could you ask Anjali to send the slides?", ("Anjali",)),
        ("please ping wei about the deploy", ("wei",)),
        ("My address is 10 Downing Street, London SW1A 2AA", ("10 Downing", "SW1A 2AA")),
        ("device MAC: a4:83:e7:12:9b:01", ("a4:83:e7:12:9b:01",)),
        ("Reach me on Telegram @marta_k", ("marta_k",)),
        ("the cabin is at 48.8584 N, 2.2945 E", ("48.8584",)),
        ("NINO CE 45 67 89 D", ("45 67 89",)),
    ]
]

# -- 6: sketch mode sends private facts --------------------------------------------------
_PROFILE = (
    "## User Profile\nName: Eleanor Vance\nEmployer: Hillhouse Analytics\n"
    "Medication: lithium carbonate\nPrivacy_info: recovering from a bipolar disorder relapse\n"
)
CLASS_6 = [
    Case(
        6,
        "sketch",
        (
            "",
            "Write a short note to my boss explaining that my bipolar disorder relapse and lithium adjustment mean I need two weeks off.",
        ),
        ("bipolar", "lithium"),
    ),
    Case(
        6,
        "sketch",
        (_PROFILE, "Write a thank-you email to my team at Hillhouse Analytics."),
        ("Hillhouse",),
    ),
    Case(
        6,
        "sketch",
        (_PROFILE, "Draft a reminder to refill my lithium carbonate prescription."),
        ("lithium",),
    ),
    Case(
        6,
        "sketch",
        (
            "",
            "Write a letter to my landlord explaining I missed rent because of my gambling debts.",
        ),
        ("gambling debts",),
    ),
    Case(
        6,
        "sketch",
        (
            "",
            "Write a message to my sister telling her I am gay and in love with a woman named Dana.",
        ),
        ("gay", "Dana"),
    ),
    Case(
        6,
        "sketch",
        ("", "Draft an email to my lawyer about my upcoming DUI court hearing."),
        ("DUI",),
    ),
    Case(
        6,
        "sketch",
        ("", "Write a note asking for Fridays off because I am converting to Islam."),
        ("Islam",),
    ),
    Case(
        6,
        "sketch",
        (_PROFILE, "Write a LinkedIn post about leaving Hillhouse Analytics."),
        ("Hillhouse",),
    ),
]

# -- 7: restoration of text the user typed ------------------------------------------------
CLASS_7 = [
    Case(7, "restore", "What does [PERSON_1] mean? I typed it myself.", ("Margaret Thornbury",)),
    Case(7, "restore", "Please repeat exactly: [PERSON_1]", ("Margaret Thornbury",)),
    Case(7, "restore", "My cat is called [PERSON_1].", ("Margaret Thornbury",)),
    Case(
        7,
        "restore",
        "[EMAIL_ADDRESS_1] is a template variable",
        ("margaret@thornbury.example.com",),
    ),
    Case(
        7,
        "restore",
        "Echo back '[PERSON_1]' and '[EMAIL_ADDRESS_1]'",
        ("Margaret Thornbury", "margaret@thornbury.example.com"),
    ),
    Case(7, "restore", "In my template, {{[PERSON_1]}} is a slot", ("Margaret Thornbury",)),
    Case(
        7,
        "restore",
        "Reply with the literal token [PERSON_1] and nothing else",
        ("Margaret Thornbury",),
    ),
    Case(7, "restore", "Translate '[PERSON_1] says hi' to French", ("Margaret Thornbury",)),
]

# -- 8: over-redaction (words that must survive) ------------------------------------------
CLASS_8 = [
    Case(8, "keep", "Remind me to email the team about the release.", ("Remind", "email")),
    Case(8, "keep", "Email the summary to the whole list.", ("Email",)),
    Case(8, "keep", "Ask HelpBot how to reset my router.", ("HelpBot",)),
    # A place may be replaced as a LOCATION (the policy's choice), never as a PERSON.
    Case(
        8,
        "keep",
        "Plan the Valencia trip itinerary for three days.",
        ("[PERSON",),
        extra={"absent": True},
    ),
    Case(8, "keep", "Напиши короткое стихотворение о весне", ("Напиши",)),
    Case(8, "keep", "Summarize this article in three bullet points.", ("Summarize",)),
    Case(8, "keep", "Translate this paragraph into German.", ("Translate",)),
    Case(8, "keep", "Draft a polite reply declining the meeting.", ("Draft",)),
    Case(8, "keep", "Schedule a reminder for the standup.", ("Schedule",)),
    Case(8, "keep", "Call the function parse_config with a path.", ("parse_config",)),
    Case(8, "keep", "Use the GitHub API to list open pull requests.", ("GitHub",)),
    Case(
        8,
        "keep",
        "Set MAX_RETRIES=5 and TIMEOUT_SECONDS=30 in the config.",
        ("MAX_RETRIES=5", "TIMEOUT_SECONDS=30"),
    ),
    Case(8, "keep", "password_min_length: 12\ntoken_ttl: 3600", ("12", "3600")),
    Case(8, "keep", "The function returns ok when the token is valid.", ("ok",)),
    Case(8, "keep", "Write a haiku about Mondays.", ("haiku",)),
    Case(8, "keep", "Check the PostgreSQL logs for deadlocks.", ("PostgreSQL",)),
    Case(8, "keep", "Explain the difference between TCP and UDP.", ("Explain", "TCP", "UDP")),
    Case(8, "keep", "帮我写一首关于秋天的诗", ("秋天",)),
    Case(8, "keep", "今日は天気がいいですね", ("天気",)),
    Case(
        8,
        "keep",
        "commit 3adfa28f49179a6a5b2c8d9e1f0a1b2c3d4e5f60 fixed the build",
        ("3adfa28f49179a6a5b2c8d9e1f0a1b2c3d4e5f60",),
    ),
]

# -- 9: a malicious upstream stalls the gateway --------------------------------------------
CLASS_9 = [
    Case(9, "stream", {"event_mib": 2, "events": 1}, note="one 2 MiB event"),
    Case(9, "stream", {"event_mib": 8, "events": 1}, note="one 8 MiB event"),
    Case(9, "stream", {"event_mib": 0.25, "events": 32}, note="32 events of 256 KiB"),
    Case(
        9,
        "stream",
        {"event_mib": 0.5, "events": 1, "placeholder_run": True},
        note="512 KiB of '[' runs",
    ),
]

# -- the no-PII set: task texts, code and logs that must leave unchanged --------------------
NO_PII = [
    "Write a 300-word blog post about the benefits of unit testing.",
    "Summarize the key ideas of the attached article in five bullet points.",
    "Translate the following sentence into Spanish: The weather is nice today.",
    "Explain how a hash map handles collisions, with an example in Python.",
    "Give me a recipe for a vegetarian lasagna for four people.",
    "What are the main differences between REST and GraphQL?",
    "Refactor this function to use a list comprehension.",
    "Draft an agenda for a one-hour sprint planning meeting.",
    "Remind me what the CAP theorem says.",
    "Email etiquette: how formal should a follow-up be?",
    "Write unit tests for the parse_date function below.",
    "Compare the performance of quicksort and mergesort on nearly sorted data.",
    "Suggest names for a cat that likes to sleep in boxes.",
    "Outline a talk about observability for backend engineers.",
    "def retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n            return fn()\n        except TimeoutError:\n            continue\n    raise RuntimeError('gave up')",
    "import os\nDB_HOST = os.environ['DB_HOST']\nDB_PASSWORD = os.environ['DB_PASSWORD']\n",
    "class UserService:\n    def get_password_hash(self, user):\n        return self.hasher.hash(user.password)\n",
    "const token = process.env.API_TOKEN;\nif (!token) throw new Error('missing token');",
    "SELECT id, created_at FROM orders WHERE status = 'shipped' ORDER BY created_at DESC LIMIT 50;",
    'for i in $(seq 1 10); do echo "run $i"; done',
    "2026-11-29T02:14:07Z INFO server started on port 8080 (pid 4127)",
    "2026-11-29T02:14:09Z WARN cache miss ratio 0.42 above threshold 0.30",
    "ERROR worker-3 job 91823 failed after 3 retries: connection reset by peer",
    "GET /api/v2/items?page=3&limit=25 200 14ms",
    "[2026-11-28 18:00:01] kernel: eth0 link up, 1000 Mbps full duplex",
    "Traceback (most recent call last):\n  File \"app.py\", line 42, in <module>\n    main()\nValueError: invalid literal for int() with base 10: 'abc'",
    "version: '3.8'\nservices:\n  web:\n    image: nginx:1.27\n    ports:\n      - '8080:80'\n",
    "PASSWORD_MIN_LENGTH=12\nTOKEN_TTL_SECONDS=3600\nMAX_UPLOAD_MB=25",
    "The build took 4 min 32 s; 1,204 tests passed and 3 were skipped.",
    "Plan a weekend itinerary with museums, food and a day at the beach.",
    "Write a haiku about autumn leaves.",
    "What is the time complexity of binary search?",
    "Convert 72 degrees Fahrenheit to Celsius.",
    "Explain the difference between a mutex and a semaphore.",
    "git rebase -i HEAD~3 then squash the last two commits",
    "pip install -c constraints.txt detect-secrets==1.5.0",
    "The meeting moved to Thursday at 3 pm; bring the Q3 numbers.",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Напиши короткое стихотворение о весне.",
    "帮我写一首关于秋天的诗。",
]

ALL = (
    CLASS_1
    + CLASS_2
    + CLASS_3
    + CLASS_4
    + CLASS_5
    + CLASS_5_HELD_OUT
    + CLASS_6
    + CLASS_7
    + CLASS_8
    + CLASS_9
)
