#include "tools/gen/catalog.h"

#include <array>

namespace bf::gen {
namespace {

using sv = std::string_view;

// CN is the majority, as on the app; US the large newcomer group (January
// 2025); a few smaller communities so "other cultures" is not just one.
constexpr std::array<Culture, 7> kCultures = {{
    {"CN", 0.55, "zh", "en", 0.25},
    {"US", 0.30, "en", "zh", 0.08},
    {"BR", 0.04, "pt", "en", 0.30},
    {"JP", 0.04, "ja", "en", 0.20},
    {"FR", 0.03, "fr", "en", 0.40},
    {"NG", 0.02, "en", "", 0.0},
    {"MX", 0.02, "es", "en", 0.30},
}};

constexpr sv kCatTags[] = {"cats", "pets", "kitten", "catsofrednote"};
constexpr sv kDogTags[] = {"dogs", "pets", "puppy", "walk"};
constexpr sv kBirdTags[] = {"birds", "birdwatching", "nature", "wildlife"};
constexpr sv kCraftTags[] = {"crafts", "handmade", "knitting", "embroidery", "woodwork"};
constexpr sv kCostumeTags[] = {"hanfu", "historicalcostume", "cosplay", "traditional"};
constexpr sv kMusicTags[] = {"music", "guzheng", "erhu", "country", "rock", "cover"};
constexpr sv kFoodTags[] = {"food", "cooking", "recipe", "homecooking"};
constexpr sv kFamilyTags[] = {"family", "kids", "grandparents", "dailylife"};
constexpr sv kTravelTags[] = {"travel", "landscape", "hiking", "citywalk"};
constexpr sv kLanguageTags[] = {"languagelearning", "chinese", "english", "studywithme"};
constexpr sv kHumourTags[] = {"funny", "meme", "humour", "jokes"};

// Rates chosen so the story holds: cats, birds, crafts and music are liked
// across cultures about as much as at home; humour and food mostly at home.
constexpr std::array<Topic, kTopicCount> kTopics = {{
    {"cats", kCatTags, 0.30, 1.00, 0.01},
    {"dogs", kDogTags, 0.26, 0.90, 0.01},
    {"birds", kBirdTags, 0.24, 1.00, 0.01},
    {"crafts", kCraftTags, 0.22, 0.95, 0.01},
    {"historical_costume", kCostumeTags, 0.24, 0.80, 0.02},
    {"music", kMusicTags, 0.22, 0.85, 0.02},
    {"food", kFoodTags, 0.25, 0.45, 0.04},
    {"family", kFamilyTags, 0.20, 0.75, 0.02},
    {"travel", kTravelTags, 0.18, 0.80, 0.02},
    {"language_learning", kLanguageTags, 0.16, 0.60, 0.03},
    {"humour", kHumourTags, 0.28, 0.20, 0.10},
}};

#define T(text, gloss) Title{text, gloss}
constexpr Title kZh[kTopicCount][6] = {
    {T("我家猫咪晒太阳", "my cat sunbathing"), T("猫主子今天又拆家了", "the cat boss wrecked the house again"),
     T("给美国朋友看看我的猫", "showing my cat to American friends"), T("橘猫的第{n}天减肥计划", "day {n} of the orange cat's diet"),
     T("小猫咪睡觉打呼噜", "kitten snoring"), T("你们要的猫猫来了", "here is the cat you asked for")},
    {T("带狗狗去公园", "taking the dog to the park"), T("柴犬的表情包", "shiba faces"),
     T("我家狗子会握手了", "my dog learned to shake hands"), T("下雪天的狗狗", "dog on a snowy day"),
     T("狗狗第一次见猫", "dog meets a cat for the first time"), T("遛狗日记", "dog walking diary")},
    {T("今天拍到了翠鸟", "photographed a kingfisher today"), T("公园里的白头鹎", "light-vented bulbuls in the park"),
     T("观鸟第{n}天", "bird watching, day {n}"), T("求鉴定这是什么鸟", "what bird is this?"),
     T("湿地的候鸟回来了", "migrating birds are back at the wetland"), T("窗外的麻雀一家", "the sparrow family outside my window")},
    {T("手工编织围巾教程", "hand-knitted scarf tutorial"), T("我的刺绣作品", "my embroidery"),
     T("用竹子做的小灯", "a little bamboo lamp"), T("第一次做陶艺", "first time doing pottery"),
     T("剪纸:福字", "paper cutting: the character fu"), T("苏绣小猫", "a Suzhou-embroidered kitten")},
    {T("明制汉服出游", "out in Ming-style hanfu"), T("宋制汉服日常穿搭", "everyday Song-style hanfu outfit"),
     T("汉服发型教程", "hanfu hairstyle tutorial"), T("在故宫穿汉服拍照", "hanfu photos at the Forbidden City"),
     T("唐制齐胸襦裙", "Tang-style high-waisted ruqun"), T("给外国朋友介绍汉服", "introducing hanfu to foreign friends")},
    {T("古筝弹奏《青花瓷》", "guzheng cover of Blue and White Porcelain"), T("二胡版《赛马》", "horse racing on erhu"),
     T("琵琶练习第{n}天", "pipa practice, day {n}"), T("用古筝弹美国乡村音乐", "American country music on guzheng"),
     T("笛子吹《茉莉花》", "Jasmine Flower on the dizi"), T("乐队排练现场", "band rehearsal")},
    {T("妈妈做的红烧肉", "mom's braised pork"), T("自制麻辣烫", "homemade malatang"),
     T("十分钟早餐", "ten-minute breakfast"), T("包饺子过年", "making dumplings for New Year"),
     T("美国朋友问我怎么做饺子", "an American friend asked how to make dumplings"), T("街边小吃合集", "street snacks roundup")},
    {T("和爷爷奶奶过周末", "a weekend with grandma and grandpa"), T("全家福", "family photo"),
     T("宝宝第一次走路", "baby's first steps"), T("老家的年夜饭", "New Year's Eve dinner back home"),
     T("爸爸的老照片", "dad's old photos"), T("带娃日常", "daily life with the kids")},
    {T("桂林山水甲天下", "Guilin's landscape is the best under heaven"), T("张家界的云海", "sea of clouds at Zhangjiajie"),
     T("周末城市漫步", "weekend city walk"), T("新疆自驾第{n}天", "Xinjiang road trip, day {n}"),
     T("冬天的哈尔滨", "Harbin in winter"), T("西湖日落", "sunset over West Lake")},
    {T("教美国朋友说中文", "teaching American friends Chinese"), T("英语学习打卡第{n}天", "English study check-in, day {n}"),
     T("外国网友的中文太可爱了", "foreign netizens' Chinese is so cute"), T("一起学英语口语", "let's learn spoken English"),
     T("这些英文俚语你知道吗", "do you know these English slang words"), T("中文里最难的字", "the hardest characters in Chinese")},
    {T("笑死我了", "this cracked me up"), T("打工人的一天", "a day in the life of a worker"),
     T("00后整顿职场", "Gen Z shaking up the workplace"), T("谐音梗合集", "pun compilation"),
     T("我妈的朋友圈", "my mom's social media posts"), T("当代年轻人现状", "young people these days")},
};
constexpr Title kEn[kTopicCount][6] = {
    {T("My cat demanding breakfast at 5am", ""), T("Here's my cat, as requested", ""),
     T("Cat tax for my new Chinese friends", ""), T("Day {n} of my cat ignoring me", ""),
     T("This cat thinks she owns the couch", ""), T("Sunday nap with the kitties", "")},
    {T("Golden retriever sees snow for the first time", ""), T("Dog park adventures", ""),
     T("My rescue pup turned {n} today", ""), T("He knows exactly what he did", ""),
     T("Hiking with my best boy", ""), T("Corgi zoomies", "")},
    {T("Northern cardinal at the feeder", ""), T("Blue jay showing off", ""),
     T("Bald eagle over the river this morning", ""), T("Birding day {n}: a red-tailed hawk", ""),
     T("Can anyone ID this warbler?", ""), T("Hummingbirds are back", "")},
    {T("Finished my first quilt", ""), T("Crochet frog army", ""), T("Woodworking: a walnut cutting board", ""),
     T("Hand-thrown mugs from my studio", ""), T("Knitting project {n} of the year", ""),
     T("Tried Chinese knotting after seeing your posts", "")},
    {T("Tried on hanfu for the first time", ""), T("Renaissance faire costume build", ""),
     T("Sewing a Regency dress from scratch", ""), T("Civil War era reenactment outfit", ""),
     T("My first hanfu, ordered from a RedNote seller", "")},
    {T("Country song I wrote on the porch", ""), T("Rock cover in my garage", ""),
     T("Learning guzheng after hearing it here", ""), T("Bluegrass jam session", ""),
     T("Fiddle practice day {n}", ""), T("Playing Take Me Home, Country Roads for my new friends", "")},
    {T("Texas brisket, 14 hours", ""), T("Mac and cheese from scratch", ""),
     T("My attempt at dumplings", ""), T("Thanksgiving leftovers sandwich", ""),
     T("Southern biscuits and gravy", ""), T("Cooking the recipe a Chinese friend sent me", "")},
    {T("Three generations at the lake", ""), T("Grandma's 90th birthday", ""),
     T("Sunday dinner with the family", ""), T("Our kids meeting the new puppy", ""),
     T("Old family photos from the 70s", ""), T("Road trip with the whole family", "")},
    {T("Sunrise at the Grand Canyon", ""), T("Fall colors in Vermont", ""),
     T("Small town main street", ""), T("National park number {n}", ""),
     T("Desert sunset in Arizona", ""), T("Lake Michigan in winter", "")},
    {T("Day {n} of learning Chinese", ""), T("My tones are still a mess", ""),
     T("Teaching my Chinese friends Southern slang", ""), T("Duolingo streak, but make it Mandarin", ""),
     T("What does this character mean?", ""), T("Learning to write my name in Chinese", "")},
    {T("When the group project goes wrong", ""), T("Dad jokes, volume {n}", ""),
     T("Me explaining American healthcare to my new friends", ""), T("TikTok refugees checking in", ""),
     T("My roommate's cooking, a review", ""), T("Monday mood", "")},
};
constexpr Title kPt[kTopicCount][2] = {
    {T("Meu gato dormindo no sol", "my cat sleeping in the sun"), T("Gatinho novo na família", "new kitten in the family")},
    {T("Passeio com o cachorro na praia", "walking the dog on the beach"), T("Meu vira-lata caramelo", "my caramel mutt")},
    {T("Tucano no quintal", "toucan in the backyard"), T("Observação de aves no Pantanal", "bird watching in the Pantanal")},
    {T("Crochê feito à mão", "handmade crochet"), T("Artesanato de renda", "lace craft")},
    {T("Fantasia histórica para o carnaval", "historical costume for carnival"), T("Vestido de época", "period dress")},
    {T("Samba no violão", "samba on guitar"), T("Bossa nova ao vivo", "live bossa nova")},
    {T("Feijoada de domingo", "Sunday feijoada"), T("Pão de queijo caseiro", "homemade cheese bread")},
    {T("Almoço em família", "family lunch"), T("Aniversário da vovó", "grandma's birthday")},
    {T("Pôr do sol no Rio", "sunset in Rio"), T("Cachoeira na Chapada", "waterfall in the Chapada")},
    {T("Aprendendo chinês, dia {n}", "learning Chinese, day {n}"), T("Palavras em inglês que confundem", "confusing English words")},
    {T("Brasileiro explicando o Brasil", "a Brazilian explaining Brazil"), T("Meme do dia", "meme of the day")},
};
constexpr Title kJa[kTopicCount][2] = {
    {T("うちの猫がこたつから出ない", "my cat won't leave the kotatsu"), T("猫の寝顔", "my cat's sleeping face")},
    {T("柴犬の散歩", "walking the shiba"), T("雪の日のわんこ", "doggo on a snowy day")},
    {T("カワセミを撮りました", "I photographed a kingfisher"), T("探鳥日記{n}日目", "birding diary, day {n}")},
    {T("手作りの刺し子", "handmade sashiko"), T("折り紙の鶴", "origami cranes")},
    {T("着物でお出かけ", "out in a kimono"), T("浴衣の着付け", "how to put on a yukata")},
    {T("三味線の練習", "shamisen practice"), T("ギター弾き語り", "singing with guitar")},
    {T("お弁当作り", "making a bento"), T("手作りラーメン", "homemade ramen")},
    {T("家族で初詣", "first shrine visit of the year with family"), T("祖父母の家で", "at my grandparents' house")},
    {T("富士山の朝焼け", "Mt Fuji at dawn"), T("京都の紅葉", "autumn leaves in Kyoto")},
    {T("中国語の勉強{n}日目", "studying Chinese, day {n}"), T("英語の発音練習", "English pronunciation practice")},
    {T("関西人あるある", "things Kansai people do"), T("今日のボケ", "today's gag")},
};
constexpr Title kFr[kTopicCount][2] = {
    {T("Mon chat au soleil", "my cat in the sun"), T("Le chat a encore volé ma place", "the cat stole my seat again")},
    {T("Balade avec le chien", "a walk with the dog"), T("Mon chiot a {n} mois", "my puppy is {n} months old")},
    {T("Mésange bleue au jardin", "blue tit in the garden"), T("Sortie ornitho en Camargue", "birding outing in the Camargue")},
    {T("Broderie faite main", "handmade embroidery"), T("Atelier poterie", "pottery workshop")},
    {T("Robe du XVIIIe siècle", "an 18th-century dress"), T("Costume médiéval fait maison", "homemade medieval costume")},
    {T("Reprise au piano", "piano cover"), T("Chanson française à la guitare", "French song on guitar")},
    {T("Baguette maison", "homemade baguette"), T("Ratatouille de mamie", "grandma's ratatouille")},
    {T("Dimanche en famille", "Sunday with the family"), T("Vieilles photos de famille", "old family photos")},
    {T("Coucher de soleil en Bretagne", "sunset in Brittany"), T("Randonnée dans les Alpes", "hiking in the Alps")},
    {T("J'apprends le chinois, jour {n}", "learning Chinese, day {n}"), T("Les faux amis en anglais", "false friends in English")},
    {T("L'humour français expliqué", "French humour explained"), T("Les grèves, encore", "strikes, again")},
};
constexpr Title kEs[kTopicCount][2] = {
    {T("Mi gato tomando el sol", "my cat sunbathing"), T("Michi dormilón", "sleepy kitty")},
    {T("Paseo con mi perrito", "a walk with my doggy"), T("Mi xolo en la nieve", "my xolo in the snow")},
    {T("Colibrí en mi jardín", "hummingbird in my garden"), T("Avistamiento de aves, día {n}", "bird watching, day {n}")},
    {T("Bordado otomí hecho a mano", "handmade Otomi embroidery"), T("Alebrije pintado por mí", "an alebrije I painted")},
    {T("Traje de china poblana", "china poblana dress"), T("Vestido tradicional de Oaxaca", "traditional Oaxacan dress")},
    {T("Mariachi en casa", "mariachi at home"), T("Guitarra y son jarocho", "guitar and son jarocho")},
    {T("Tacos al pastor caseros", "homemade tacos al pastor"), T("Mole de la abuela", "grandma's mole")},
    {T("Comida familiar del domingo", "Sunday family meal"), T("Fotos antiguas de mis abuelos", "old photos of my grandparents")},
    {T("Atardecer en Oaxaca", "sunset in Oaxaca"), T("Pueblo mágico", "a magic town")},
    {T("Aprendiendo chino, día {n}", "learning Chinese, day {n}"), T("Inglés para principiantes", "English for beginners")},
    {T("Memes mexicanos", "Mexican memes"), T("Cosas de mamá mexicana", "Mexican mom things")},
};
#undef T

}  // namespace

std::span<const Culture> Cultures() { return kCultures; }
std::span<const Topic> Topics() { return kTopics; }

double TopicWeight(int topic, std::string_view culture) {
  const bool cn = culture == "CN";
  switch (topic) {
    case kCostume: return cn ? 2.0 : 0.3;
    case kLanguage: return cn ? 0.6 : 1.4;  // the newcomers are the ones learning
    case kHumour: return cn ? 1.3 : 1.0;
    case kBirds: return cn ? 0.8 : 1.3;
    case kFood: return 1.3;
    default: return 1.0;
  }
}

std::span<const Title> Titles(int topic, std::string_view lang) {
  if (lang == "zh") return kZh[topic];
  if (lang == "pt") return kPt[topic];
  if (lang == "ja") return kJa[topic];
  if (lang == "fr") return kFr[topic];
  if (lang == "es") return kEs[topic];
  // English has a few topics with five templates: skip the empty slot.
  std::span<const Title> en = kEn[topic];
  while (!en.empty() && en.back().text.empty()) en = en.first(en.size() - 1);
  return en;
}

}  // namespace bf::gen
