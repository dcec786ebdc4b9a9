"""Drives the hub's office dashboard in headless Chromium (Debian's chromium and chromedriver,
through python3-selenium) as the office's staff would, and prints what the pages showed as JSON.
Chromium trusts the test's CA only: it is put in a fresh NSS database (certutil, libnss3-tools)
in a home folder of the browser's own, so a certificate problem fails the run.

usage: dashboard.py BASE_URL OFFICE_CREDENTIAL OTHER_CREDENTIAL CONFLICT_ID CA_FILE
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

base, office, other, conflict, ca = sys.argv[1:6]
home = tempfile.mkdtemp(prefix="begawi-browser-")
nssdb = os.path.join(home, ".pki", "nssdb")
os.makedirs(nssdb)
subprocess.run(["certutil", "-N", "-d", "sql:" + nssdb, "--empty-password"], check=True)
subprocess.run(["certutil", "-A", "-d", "sql:" + nssdb, "-n", "begawi-test-ca", "-t", "C,,", "-i", ca], check=True)
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--user-data-dir=" + os.path.join(home, "profile")]:
    options.add_argument(argument)
service = Service("/usr/bin/chromedriver", env=dict(os.environ, HOME=home))
driver = webdriver.Chrome(service=service, options=options)
driver.set_page_load_timeout(30)
seen = {}


def submit(element):
    """Clicks a button or link that loads a new page, and waits until the new page has loaded: a
    mark left on the old page's window is gone with it. Errors while the page changes are retried."""
    driver.execute_script("window.begawiOldPage = true")
    element.click()
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return window.begawiOldPage === undefined && document.readyState === 'complete'"))


def sign_in(credential):
    driver.get(base + "/office/masuk")
    driver.find_element(By.ID, "kredensial").send_keys(credential)
    submit(driver.find_element(By.ID, "masuk"))


def cells(row, attribute):
    return {td.get_attribute(attribute): td.text for td in row.find_elements(By.CSS_SELECTOR, "td[%s]" % attribute)}


try:
    driver.get(base + "/office/")
    seen["unsigned_url"] = driver.current_url
    sign_in(other)
    seen["other_url"] = driver.current_url
    seen["other_message"] = driver.find_element(By.ID, "pesan").text
    sign_in(office)
    seen["office_url"] = driver.current_url
    seen["title"] = driver.title
    seen["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    seen["health"] = {row.get_attribute("data-site"): cells(row, "data-field")
                      for row in driver.find_elements(By.CSS_SELECTOR, "#kesehatan tr[data-site]")}

    submit(driver.find_element(By.LINK_TEXT, "Pendaftaran"))
    for name, value in [("dari", "2025-01-01"), ("sampai", "2025-12-31")]:
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, name), value)
    submit(driver.find_element(By.ID, "saring"))
    seen["report_url"] = driver.current_url
    seen["report"] = [{"partner": row.get_attribute("data-partner"), "program": row.get_attribute("data-program"),
                       "counts": cells(row, "data-status")}
                      for row in driver.find_elements(By.CSS_SELECTOR, "#rekap tr[data-partner]")]
    seen["report_total"] = cells(driver.find_element(By.ID, "total"), "data-status")
    seen["report_headers"] = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#rekap thead th")]
    link = driver.find_element(By.ID, "csv").get_attribute("href")
    cookie = driver.get_cookie("begawi_office")
    seen["cookie"] = {k: cookie.get(k) for k in ("httpOnly", "secure", "sameSite", "path")}
    request = urllib.request.Request(link, headers={"Cookie": "begawi_office=" + cookie["value"]})
    answer = urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca), timeout=20)
    seen["csv_type"] = answer.headers.get("Content-Type")
    seen["csv"] = answer.read().decode("utf-8")

    submit(driver.find_element(By.LINK_TEXT, "Konflik"))
    seen["conflicts"] = {row.get_attribute("data-conflict"): cells(row, "data-field")
                         for row in driver.find_elements(By.CSS_SELECTOR, "#konflik tr[data-conflict]")}
    row = driver.find_element(By.CSS_SELECTOR, "#konflik tr[data-conflict='%s']" % conflict)
    seen["conflict_before"] = cells(row, "data-field")
    submit(row.find_element(By.CSS_SELECTOR, "button.terapkan"))
    seen["notice"] = driver.find_element(By.ID, "pesan").text
    row = driver.find_element(By.CSS_SELECTOR, "#konflik tr[data-conflict='%s']" % conflict)
    seen["conflict_after"] = cells(row, "data-field")

    submit(driver.find_element(By.CSS_SELECTOR, "form.keluar button"))
    driver.get(base + "/office/konflik")
    seen["after_sign_out_url"] = driver.current_url
finally:
    driver.quit()
    shutil.rmtree(home, ignore_errors=True)
print(json.dumps(seen))
