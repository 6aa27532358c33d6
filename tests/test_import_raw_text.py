"""Raw page text to article: the five seed pages and the general rules behind them."""
import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from articles.importing.raw_text import NoArticleText, date_line, parse_raw_article

SEEDS = Path(__file__).resolve().parent.parent / "data" / "demo" / "seeds"


@dataclass
class Seed:
    file: str
    title: str
    source: str | None
    first: str                      # first paragraph of the body (the lead)
    last: str                       # last paragraph of the body
    kept: list = field(default_factory=list)     # paragraphs that must be in the body
    absent: list = field(default_factory=list)   # boilerplate that must not be


SEED_CASES = [
    Seed(
        file="000_4c30a97419dbf98e.txt",
        # The page kept no headline: the opening sentence, without its full stop.
        title="وصل الرئيس الروسي، فلاديمير بوتين ،فجر اليوم الجمعة،إلى مدينة ماغادان الروسية قبيل قمته مع ترامب في ألاسكا",
        source="الثورة نت",
        first="وصل الرئيس الروسي، فلاديمير بوتين ،فجر اليوم الجمعة،إلى مدينة ماغادان الروسية قبيل قمته مع ترامب في ألاسكا.",
        last="ورجح أوشاكوف في ختام حديثه أن يعقد اللقاء التالي بين بوتين وترامب في روسيا.",
        kept=["وقال: “التعاون بين روسيا والولايات المتحدة يحظى بطاقات هائلة غير مستغلة بعد”."],
        absent=[
            "الثورة نت /..", "المصدر", "إقرأ أيضاً",
            # the whole other article pasted after "إقرأ أيضاً:"
            "زيلينسكي يلتقي ستارمر في لندن", "تصعيد ميداني متبادل", "الكرة الآن في ملعب بوتين",
            "Related", "انتقل إلى اختصارات الوصول", "شارك هذا المقال", "مقالات مشابهة", "•",
            "البيت الأبيض: لقاء ترامب وبوتين سيعقد في مدينة",
        ],
    ),
    Seed(
        file="001_d6b038106e6b6b8b.txt",
        # A one-sentence standfirst: it names the article and stays its lead.
        title="تقول روسيا إن كلا الجانبين يؤكدون نية لقاء بوتين ترامب في ألاسكا يوم الجمعة ، حيث تم مناقشة حرب أوكرانيا",
        source=None,
        first="تقول روسيا إن كلا الجانبين يؤكدون نية لقاء بوتين ترامب في ألاسكا يوم الجمعة ، حيث تم مناقشة حرب أوكرانيا.",
        last=(
            "التقى الزوجان ست مرات خلال رئاسة ترامب الأولى ، بما في ذلك في قمة 2018 في هلسنكي ، حيث انحنى ترامب "
            "مع بوتين – وقوض مجتمع الاستخبارات الأمريكية – بقوله أن روسيا لم تتدخل في الانتخابات الأمريكية لعام 2016."
        ),
        kept=[
            "أجرى كبار الدبلوماسيين من روسيا والولايات المتحدة مكالمة هاتفية قبل اجتماع مخطط له هذا الأسبوع "
            "بين الرئيس الأمريكي دونالد ترامب والرئيس الروسي فلاديمير بوتين.",
            "“لذلك كان هناك تحول حقيقي للاستراتيجية والأهداف من حيث ما يمكن إنجازه.”",
        ],
    ),
    Seed(
        file="002_ab1263de56029f80.txt",
        title='قمة آلاسكا.. "نتائج مثمرة" دون كشف التفاصيل وترامب وبوتين يؤكدان على عقد اجتماع آخر قريباً',
        source=None,
        first=(
            "اختتم الرئيس الأميركي دونالد ترامب ونظيره الروسي فلاديمير بوتين اجتماعهما التاريخي في قاعدة "
            "إلمندورف ريتشاردسون بألاسكا، يوم الجمعة 15 أغسطس/ آب، وسط أجواء إيجابية عبّر عنها الرئيسان مما "
            "يمهد لإعادة تشكيل مسار الحرب في أوكرانيا والعلاقات بين موسكو وواشنطن."
        ),
        last=(
            "وفي هذا الإطار، عبّر الرئيس الأوكراني وحلفاؤه في أوروبا عن مخاوفهم من أن تُؤدّي القمّة إلى "
            "تجميد الصراع والقبول الضمني بسيطرة روسيا على نحو خُمس الأراضي الأوكرانية."
        ),
        kept=[
            # right after the first inline "اقرأ أيضاً: …" line
            "وقال بوتين لترامب: \"نحن جيران مقربون وألاسكا تمثل جزءاً من التاريخ المشترك بين روسيا وأميركا\". "
            "وأمل أن يصبح اجتماع اليوم نقطة انطلاق نحو استعادة العلاقات بين روسيا وأميركا.",
            # right after the second one
            "وامتدت قمة ترامب وبوتين بشأن الحرب الروسية في أوكرانيا إلى ثلاث ساعات اليوم الجمعة، إذ سعى "
            "الرئيسان إلى إيجاد طريقة لإنهاء أكثر الصراعات دموية في أوروبا منذ 80 عاماً.",
            "ترامب يكشف جانباً من المحادثات",
            "نصيحة لزيلينسكي",
            # NBSPs inside the paragraph are plain spaces
            "وأشار الرئيس الروسي إلى أن اجتماعه المقبل مع نظيره الأمريكي دونالد ترامب سيكون في موسكو.",
        ],
        absent=[
            "🔴", "آخر تحديث", "AFP", "ترامب وبوتين في آلاسكا/", "استمع للمقال", "Play", "اقرأ أيضاً",
            "اجتماع ترامب وبوتين في ألاسكا والرئيسان يتصافحان", "طريق شائك نحو التسوية",
            "تابعونا", "الأكثر تداولاً", "الأكثر قراءة", "أخبار ذات صلة", "\xa0",
        ],
    ),
    Seed(
        file="003_8263b2d1c5dd0958.txt",
        # The opening paragraph is too long for a headline: its first clauses, without the dateline.
        title=(
            "عقد الرئيس الروسي فلاديمير بوتين، امس السبت، اجتماعًا مع مسؤولين رفيعين لتقييم نتائج لقائه "
            "مع نظيره الأمريكي دونالد ترامب…"
        ),
        source="صحيفة المرصد الليبية",
        first=(
            "موسكو – عقد الرئيس الروسي فلاديمير بوتين، امس السبت، اجتماعًا مع مسؤولين رفيعين لتقييم نتائج "
            "لقائه مع نظيره الأمريكي دونالد ترامب، في ألاسكا الجمعة."
        ),
        last=(
            "ومنذ 24 فبراير/ شباط 2022، تشن روسيا هجوما عسكريا على جارتها أوكرانيا وتشترط لإنهائه تخلي كييف "
            "عن الانضمام إلى كيانات عسكرية غربية، وهو ما تعتبره كييف “تدخلا” في شؤونها."
        ),
        kept=["وبحث الزعيمان وقف إطلاق النار المحتمل بين روسيا وأوكرانيا، والعلاقات الثنائية."],
        absent=[
            "المصدر", "إقرأ أيضاً", "عشق آباد", "عشق أباد", "بيسكوف", "غيراسيموف", "هداياهم",
            "مقالات مشابهة", "•", "خفض معدل الفقر", "\xa0",
        ],
    ),
    Seed(
        file="004_177f63b55d35fb6a.txt",
        title=(
            "يناقش الرئيسان الروسي فلاديمير بوتين والأميركي دونالد ترمب في قمتهما المرتقبة، الجمعة، "
            "في ولاية ألاسكا…"
        ),
        source=None,
        first=(
            "يناقش الرئيسان الروسي فلاديمير بوتين والأميركي دونالد ترمب في قمتهما المرتقبة، الجمعة، في ولاية "
            "ألاسكا، تسوية النزاع في أوكرانيا والأمن في العالم، بحسب ما أفاد مسؤول في الكرملين، الخميس."
        ),
        last=(
            "ونظراً إلى الوضع المتوتّر، بذلت كل الأطراف جهوداً حثيثة خلال الساعات التي سبقت اجتماع الجمعة."
        ),
        kept=["تسوية الأزمة الأوكرانية"],
    ),
]


def parse_seed(name):
    return parse_raw_article((SEEDS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda case: case.file[:3])
def test_seed_title_source_and_text(case):
    article = parse_seed(case.file)
    paragraphs = article.body.split("\n")

    assert article.title == case.title
    assert article.source == case.source
    assert article.published is None  # the pages carry no date; none is guessed
    assert paragraphs[0] == case.first
    assert article.lead == case.first
    assert paragraphs[-1] == case.last
    for paragraph in case.kept:
        assert paragraph in paragraphs
    for text in case.absent:
        assert text not in article.body, f"{text!r} left in the body"
    assert all(p == p.strip() and p for p in paragraphs)


def test_seed_paragraphs_are_kept_whole_and_in_order():
    """Every line of seed 004 is article text: all of them come through, in order."""
    raw = (SEEDS / "004_177f63b55d35fb6a.txt").read_text(encoding="utf-8")
    lines = [" ".join(line.split()) for line in raw.splitlines() if line.strip()]
    assert parse_seed("004_177f63b55d35fb6a.txt").body.split("\n") == lines


def page(*lines):
    return "\n".join(lines) + "\n"


def test_banner_emoji_and_header_chrome_are_not_the_title_or_text():
    article = parse_raw_article(page(
        "موقع الأخبار |",
        "⚡️",
        "🔴 عاجل: انفجار في ميناء المدينة 🔴",
        "نشر",
        "آخر تحديث",
        "رجال الإطفاء في موقع الانفجار (رويترز)",
        "استمع للمقال",
        "Play",
        "\xa0",
        "وقع انفجار كبير صباح اليوم في ميناء المدينة.",
    ))
    assert article.title == "عاجل: انفجار في ميناء المدينة"
    assert article.body == "وقع انفجار كبير صباح اليوم في ميناء المدينة."


def test_breadcrumb_byline_date_and_reading_time_above_the_text():
    article = parse_raw_article(page(
        "الرئيسية » أخبار » سياسة",
        "📌 عاجل",
        "هل تنجح الوساطة في إنهاء الحرب؟",
        "بقلم: أحمد علي",
        "الأحد 17 أغسطس 2025 - 10:30 م",
        "صورة أرشيفية",
        "3 دقائق قراءة",
        "يجتمع الوسطاء اليوم في العاصمة لبحث وقف إطلاق النار.",
        "وقال مسؤول إن المحادثات ستستمر يومين.",
        "شارك",
        "تابعونا على تلغرام",
    ))
    assert article.title == "هل تنجح الوساطة في إنهاء الحرب؟"
    assert article.published == datetime.date(2025, 8, 17)
    assert article.body.split("\n") == [
        "يجتمع الوسطاء اليوم في العاصمة لبحث وقف إطلاق النار.",
        "وقال مسؤول إن المحادثات ستستمر يومين.",
    ]


def test_read_also_line_inside_the_text_is_dropped_and_the_text_goes_on():
    article = parse_raw_article(page(
        "الحكومة تعلن خطة جديدة للنقل",
        "أعلنت الحكومة خطة جديدة للنقل العام.",
        "اقرأ أيضاً: ارتفاع أسعار الوقود للمرة الثالثة",
        "وتشمل الخطة خطوط حافلات جديدة.",
        "• إقرأ ايضا - وزير النقل يزور المحطة الجديدة",
        "Related وزير النقل يفتتح محطة القطار",
        "وتبدأ المرحلة الأولى الشهر المقبل.",
    ))
    assert article.body.split("\n") == [
        "أعلنت الحكومة خطة جديدة للنقل العام.",
        "وتشمل الخطة خطوط حافلات جديدة.",
        "وتبدأ المرحلة الأولى الشهر المقبل.",
    ]


@pytest.mark.parametrize("header", [
    "اقرأ أيضاً:", "إقرأ أيضا", "مقالات ذات صلة", "الأكثر قراءة", "الأكثر تداولاً", "أخبار ذات صلة",
    "تابعونا على فيسبوك", "شارك هذا المقال", "Related",
])
def test_trailing_boilerplate_header_ends_the_article(header):
    article = parse_raw_article(page(
        "افتتاح معرض الكتاب الدولي",
        "افتتح معرض الكتاب الدولي أبوابه للزوار.",
        "ويشارك فيه أكثر من ألف ناشر.",
        "",
        header,
        "عنوان خبر آخر لا علاقة له بالمعرض",
        "نص خبر آخر طويل لا ينتمي إلى هذا المقال ويجب ألا يظهر فيه.",
    ))
    assert article.body.split("\n") == [
        "افتتح معرض الكتاب الدولي أبوابه للزوار.",
        "ويشارك فيه أكثر من ألف ناشر.",
    ]


def test_bullet_list_inside_the_text_stays_but_a_closing_headline_list_goes():
    article = parse_raw_article(page(
        "خطة الحكومة في ثلاث نقاط",
        "أعلنت الحكومة خطة تقوم على ما يلي:",
        "• خفض الضرائب على الشركات الصغيرة.",
        "• دعم الصادرات الزراعية.",
        "وقال الوزير إن الخطة ستنفذ خلال عامين.",
        "• الرئيس يستقبل وفداً برلمانياً",
        "• ارتفاع أسعار الذهب في الأسواق",
        "• منتخب كرة القدم يفوز ودياً",
    ))
    assert article.body.split("\n") == [
        "أعلنت الحكومة خطة تقوم على ما يلي:",
        "• خفض الضرائب على الشركات الصغيرة.",
        "• دعم الصادرات الزراعية.",
        "وقال الوزير إن الخطة ستنفذ خلال عامين.",
    ]


def test_source_line_or_none():
    with_source = parse_raw_article(page("عنوان الخبر", "نص الخبر الأول.", "المصدر: وكالة الأنباء الرسمية"))
    without = parse_raw_article(page("عنوان الخبر", "نص الخبر الأول."))
    assert with_source.source == "وكالة الأنباء الرسمية"
    assert with_source.body == "نص الخبر الأول."
    assert without.source is None


def test_an_explicit_publication_date_is_read_and_an_update_date_is_not_taken_for_it():
    article = parse_raw_article(page(
        "عنوان الخبر", "نُشر في: 15 أغسطس/ آب 2025 - 10:30", "آخر تحديث: 16 أغسطس 2025", "نص الخبر.",
    ))
    only_updated = parse_raw_article(page("عنوان الخبر", "آخر تحديث: 2025-08-16", "نص الخبر."))
    assert article.published == datetime.date(2025, 8, 15)
    assert article.body == "نص الخبر."
    assert only_updated.published is None


@pytest.mark.parametrize(("line", "expected"), [
    ("تاريخ النشر: 2018-03-01", ("published", datetime.date(2018, 3, 1))),
    ("الجمعة 15 أغسطس 2025", ("published", datetime.date(2025, 8, 15))),
    ("نشر في ١٥/٠٨/٢٠٢٥", ("published", datetime.date(2025, 8, 15))),
    ("٣ تشرين الأول ٢٠١٨", ("published", datetime.date(2018, 10, 3))),
    ("آخر تحديث: 16 أغسطس 2025", ("updated", datetime.date(2025, 8, 16))),
    ("نشر الجيش صوراً للعملية", (None, None)),
    ("نشر في: 31/02/2025", (None, None)),
])
def test_date_lines(line, expected):
    assert date_line(line) == expected


def test_a_page_without_text_is_refused():
    with pytest.raises(NoArticleText):
        parse_raw_article(page("", "\xa0", "🔴", "الثورة نت /.."))
    with pytest.raises(NoArticleText):
        parse_raw_article(page("عنوان بلا نص", "مقالات مشابهة", "• خبر آخر"))
