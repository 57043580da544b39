// Joules to kWh, kg CO2e and cost (carbon.hpp), and the grid-intensity table reader
// (io/grid_intensity.hpp) with its errors.
#include <cmath>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "wsenergy/carbon.hpp"
#include "wsenergy/io/grid_intensity.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

footprint_settings settings(double g_per_kwh, double pue, double price, std::string currency) {
  footprint_settings s;
  s.carbon = carbon_factor{g_per_kwh, "NOR", "Norway", 2023, "a source"};
  s.pue = pue;
  s.price_per_kwh = price;
  s.currency = std::move(currency);
  return s;
}

/// The message of the invalid_input that `f` throws (fails the test when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const invalid_input& e) {
    return e.what();
  }
  FAIL("no invalid_input thrown");
  return {};
}

const std::string header = "iso3,country,g_co2e_per_kwh,year\n";

io::grid_intensity_table table(const std::string& body) {
  return io::grid_intensity_table::parse(header + body, "t.csv", "the default source");
}

}  // namespace

TEST_CASE("a kWh is 3.6 MJ", "[carbon]") {
  STATIC_REQUIRE(kwh_of_j(3.6e6) == 1.0);
  CHECK(kwh_of_j(1.8e6) == Approx(0.5));
  CHECK(kwh_of_j(0) == 0);
}

TEST_CASE("the footprint multiplies kWh by the PUE then by the intensity and the price",
          "[carbon]") {
  // 7.2 MJ = 2 kWh at the device, 3 kWh at the facility (PUE 1.5); 3 kWh x 250 g = 0.75 kg;
  // 3 kWh x 0.2 = 0.6.
  const footprint f = footprint_of(7.2e6, settings(250, 1.5, 0.2, "EUR"));
  CHECK(f.energy_j == 7.2e6);
  CHECK(f.energy_kwh == Approx(2.0));
  CHECK(f.facility_kwh == Approx(3.0));
  REQUIRE(f.co2e_kg);
  CHECK(*f.co2e_kg == Approx(0.75));
  REQUIRE(f.cost);
  CHECK(*f.cost == Approx(0.6));
  const footprint plain = footprint_of(3.6e6, footprint_settings{});
  CHECK(plain.facility_kwh == Approx(1.0));
  CHECK_FALSE(plain.co2e_kg);
  CHECK_FALSE(plain.cost);
}

TEST_CASE("the settings say which factor was used and where it came from", "[carbon]") {
  CHECK_THAT(settings(30.1, 1.2, 0.25, "EUR").text(),
             Equals("NOR: 30.1 g CO2e/kWh (2023, a source), PUE 1.2, price 0.25 EUR/kWh"));
  footprint_settings given;
  given.carbon = carbon_factor{250, "", "", 0, "given by the user"};
  CHECK_THAT(given.text(), Equals("250 g CO2e/kWh (given by the user), PUE 1"));
  footprint_settings price_only;
  price_only.price_per_kwh = 0.1;
  CHECK_THAT(price_only.text(), Equals("PUE 1, price 0.1 (no currency)/kWh"));
}

TEST_CASE("bad footprint settings are refused with the value", "[carbon]") {
  CHECK_NOTHROW(check_footprint_settings(settings(0, 1, 0, "USD")));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THAT(error_of([] { check_footprint_settings(settings(-1, 1, 0.1, "EUR")); }),
             Contains("carbon intensity") && Contains("got -1"));
  CHECK_THAT(error_of([&] { check_footprint_settings(settings(nan, 1, 0.1, "EUR")); }),
             Contains("carbon intensity") && Contains("nan"));
  CHECK_THAT(error_of([] { check_footprint_settings(settings(30, 0.9, 0.1, "EUR")); }),
             Contains("PUE") && Contains("at least 1") && Contains("got 0.9"));
  CHECK_THAT(error_of([&] { check_footprint_settings(settings(30, inf, 0.1, "EUR")); }),
             Contains("PUE") && Contains("inf"));
  CHECK_THAT(error_of([] { check_footprint_settings(settings(30, 1, -0.1, "EUR")); }),
             Contains("price per kWh") && Contains("got -0.1"));
  CHECK_THAT(error_of([] { check_footprint_settings(settings(30, 1, 0.1, "EURO")); }),
             Contains("currency 'EURO'") && Contains("ISO 4217"));
  footprint_settings no_price;
  no_price.currency = "EUR";
  CHECK_THAT(error_of([&] { check_footprint_settings(no_price); }),
             Contains("currency 'EUR' without a price"));
}

TEST_CASE("the grid-intensity table is read and looked up by alpha-3 code", "[carbon][io]") {
  const auto t =
      table("NOR,Norway,30.1,2023\nDEU,Germany,380.9,2023\n\"KOR\",\"Korea, Rep.\",430,2022\n");
  REQUIRE(t.rows().size() == 3);
  const carbon_factor& nor = t.at("NOR");
  CHECK(nor.g_per_kwh == Approx(30.1));
  CHECK(nor.year == 2023);
  CHECK(nor.name == "Norway");
  CHECK(nor.source == "the default source");
  CHECK(t.at("deu").region == "DEU");  // letters in any case
  CHECK(t.at("KOR").name == "Korea, Rep.");
  CHECK(t.find("XYZ") == nullptr);
  CHECK_THAT(error_of([&] { (void)t.at("XYZ"); }),
             Contains("region 'XYZ' is not in t.csv") && Contains("3 regions"));
  const auto with_source = io::grid_intensity_table::parse(
      "iso3,country,g_co2e_per_kwh,year,source\nNOR,Norway,28,2024,my "
      "provider\nSWE,Sweden,40,2023,\n",
      "s.csv", "default");
  CHECK(with_source.at("NOR").source == "my provider");
  CHECK(with_source.at("SWE").source == "default");
}

TEST_CASE("a bad grid-intensity table names the file line column and value", "[carbon][io]") {
  CHECK_THAT(error_of([] { table("NOR,Norway,30.1,2023\nNO,Norway,30.1,2023\n"); }),
             Equals("t.csv:3: column 'iso3': expected an ISO 3166-1 alpha-3 code (three letters "
                    "A-Z) (value 'NO')"));
  CHECK_THAT(error_of([] { table("nor,Norway,30.1,2023\n"); }),
             Contains("t.csv:2: column 'iso3'") && Contains("(value 'nor')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,30.1,2023\nNOR,Norway,31,2024\n"); }),
             Equals("t.csv:3: column 'iso3': the code appears twice (value 'NOR')"));
  CHECK_THAT(error_of([] { table("NOR,,30.1,2023\n"); }),
             Equals("t.csv:2: column 'country': must not be empty (value '')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,-3,2023\n"); }),
             Equals("t.csv:2: column 'g_co2e_per_kwh': must not be negative (value '-3')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,high,2023\n"); }),
             Equals("t.csv:2: column 'g_co2e_per_kwh': expected a number (value 'high')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,inf,2023\n"); }),
             Contains("column 'g_co2e_per_kwh'") && Contains("(value 'inf')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,30.1,1850\n"); }),
             Equals("t.csv:2: column 'year': expected a year, 1900 to 2100 (value '1850')"));
  CHECK_THAT(error_of([] { table("NOR,Norway,30.1,2023.5\n"); }),
             Equals("t.csv:2: column 'year': expected an integer (value '2023.5')"));
  CHECK_THAT(error_of([] { table(""); }), Equals("t.csv: the table has no rows"));
  CHECK_THAT(error_of([] {
               io::grid_intensity_table::parse("iso3,country,year\nNOR,Norway,2023\n", "m.csv", "");
             }),
             Equals("m.csv:1: the header has no column 'g_co2e_per_kwh'"));
  CHECK_THAT(error_of([] { io::grid_intensity_table::read("/no/such/table.csv", ""); }),
             Contains("/no/such/table.csv: cannot open"));
}

TEST_CASE("the shipped table reads and every row is dated", "[carbon][io]") {
  const auto t = io::grid_intensity_table::read(
      std::string(WSENERGY_PROJECT_DATA_DIR) + "/carbon/grid_intensity.csv",
      std::string(io::shipped_grid_intensity_source));
  CHECK(t.rows().size() > 200);
  for (const carbon_factor& f : t.rows()) {
    INFO(f.region);
    CHECK(f.year >= 2000);
    CHECK(f.g_per_kwh >= 0);
    CHECK(f.source == io::shipped_grid_intensity_source);
  }
  CHECK(t.find("NOR") != nullptr);
  CHECK(t.find("USA") != nullptr);
}
