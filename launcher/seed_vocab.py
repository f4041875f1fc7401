"""The fixed vocabulary of sample data: where people live (locale, country, time zone, currency per region) and
what courses are about (categories with their topics). Faker supplies the rest."""
from __future__ import annotations

# region → ((Faker locale, ISO 3166-1 country, IANA time zone), ...)
REGION_PLACES = {
    "NORTH_AMERICA": (("en_US", "US", "America/New_York"), ("en_US", "US", "America/Los_Angeles"),
                      ("en_CA", "CA", "America/Toronto"), ("es_MX", "MX", "America/Mexico_City")),
    "SOUTH_AMERICA": (("pt_BR", "BR", "America/Sao_Paulo"), ("es_AR", "AR", "America/Argentina/Buenos_Aires"),
                      ("es_CO", "CO", "America/Bogota"), ("es_CL", "CL", "America/Santiago")),
    "EUROPE": (("de_DE", "DE", "Europe/Berlin"), ("fr_FR", "FR", "Europe/Paris"), ("en_GB", "GB", "Europe/London"),
               ("it_IT", "IT", "Europe/Rome"), ("es_ES", "ES", "Europe/Madrid"), ("pl_PL", "PL", "Europe/Warsaw")),
    "AFRICA": (("en_NG", "NG", "Africa/Lagos"), ("en_KE", "KE", "Africa/Nairobi"),
               ("zu_ZA", "ZA", "Africa/Johannesburg"), ("ar_EG", "EG", "Africa/Cairo")),
    "ASIA": (("ja_JP", "JP", "Asia/Tokyo"), ("ko_KR", "KR", "Asia/Seoul"), ("hi_IN", "IN", "Asia/Kolkata"),
             ("zh_CN", "CN", "Asia/Shanghai"), ("id_ID", "ID", "Asia/Jakarta")),
    "OCEANIA": (("en_AU", "AU", "Australia/Sydney"), ("en_NZ", "NZ", "Pacific/Auckland")),
}

# region → (currency of its instructors' prices, rough units per US dollar)
REGION_CURRENCY = {"NORTH_AMERICA": ("USD", 1), "SOUTH_AMERICA": ("BRL", 5), "EUROPE": ("EUR", 1),
                   "AFRICA": ("ZAR", 18), "ASIA": ("SGD", 1.35), "OCEANIA": ("AUD", 1.5)}
USD_PRICES = (14.99, 19.99, 24.99, 34.99, 49.99, 69.99, 89.99, 119.99)

# (name, slug, description, topics). The first three are top-level; category i >= 3 sits under i % 3.
CATEGORIES = (
    ("Technology", "technology", "Software, data and the systems behind them.",
     ("Computer Science", "Cloud Computing", "Cybersecurity")),
    ("Business", "business", "Running, growing and financing organisations.",
     ("Entrepreneurship", "Project Management", "Negotiation")),
    ("Creative Arts", "creative-arts", "Making images, sound and stories.",
     ("Drawing", "Storytelling", "Photography")),
    ("Web Development", "web-development", "Building sites and web applications.",
     ("JavaScript", "React", "HTML and CSS", "Django", "TypeScript")),
    ("Finance and Accounting", "finance-accounting", "Money, markets and the books.",
     ("Personal Finance", "Financial Modeling", "Bookkeeping", "Investing")),
    ("Music Production", "music-production", "Recording, mixing and composing.",
     ("Mixing and Mastering", "Music Theory", "Ableton Live", "Songwriting")),
    ("Data Science", "data-science", "Statistics, machine learning and visualisation.",
     ("Python for Data Analysis", "Machine Learning", "SQL", "Data Visualization")),
    ("Marketing", "marketing", "Reaching and keeping customers.",
     ("Digital Marketing", "SEO", "Content Strategy", "Brand Design")),
    ("Graphic Design", "graphic-design", "Visual communication and layout.",
     ("Typography", "Adobe Illustrator", "Logo Design", "Figma")),
    ("DevOps", "devops", "Shipping and running software.", ("Kubernetes", "Docker", "Terraform", "CI/CD")),
    ("Leadership", "leadership", "Leading people and teams.", ("Management", "Public Speaking", "Coaching")),
    ("Film and Video", "film-video", "Shooting and editing moving pictures.",
     ("Video Editing", "Cinematography", "Color Grading")),
)

COURSE_TITLES = ("Introduction to {t}", "{t} from Scratch", "Mastering {t}", "Practical {t}",
                 "{t}: A Hands-On Course", "Advanced {t}", "{t} in 30 Days", "The Complete {t} Bootcamp",
                 "{t} for Beginners", "Modern {t}")
RESOLUTIONS = (("1080p", 5000), ("720p", 2800), ("480p", 1200))
DOCUMENT_TYPES = (("application/pdf", "pdf"), ("application/pdf", "pdf"), ("text/markdown", "md"),
                  ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"))
PLAYBACK_SPEEDS = (0.75, 1.0, 1.0, 1.0, 1.25, 1.5, 2.0)
