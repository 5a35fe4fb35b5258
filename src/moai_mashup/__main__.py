from moai_mashup.entry import main

main()
