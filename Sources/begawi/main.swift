import BegawiCore
print("begawi")
