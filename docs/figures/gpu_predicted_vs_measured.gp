# Predicted against measured energy per run, with the ±10 % band
# Written by wsenergy. Data: gpu_predicted_vs_measured.dat. Restyle freely, then render with:
#   gnuplot gpu_predicted_vs_measured.gp      (writes gpu_predicted_vs_measured.svg and gpu_predicted_vs_measured.png here)
if (!exists('stem')) stem = 'gpu_predicted_vs_measured'
set encoding utf8
set title "runs.csv on eagle_gpu (model: fitted eagle-gpu)\nmean absolute error 2.3 %, 98.6 % of 1873 runs within ±10 %" noenhanced
set xlabel 'measured energy per run (J, log scale)'
set ylabel 'predicted energy per run (J, log scale)'
set logscale xy 10
set format x '10^{%L}'
set format y '10^{%L}'
set xrange [255229:1.20705e+07]
set yrange [255229:1.20705e+07]
set size ratio -1
set samples 400
set grid xtics ytics lc rgb '#dddddd'
set key top left box opaque samplen 2
set terminal svg size 675,600 dynamic enhanced font 'Sans,12' background rgb 'white'
set output stem.'.svg'
plot [255229:1.20705e+07] '+' using 1:(0.9*$1):(1.1*$1) with filledcurves fc rgb '#A0D8A0' fs transparent solid 0.5 noborder title '±10 %', \
     x with lines dt 2 lw 1.5 lc rgb '#404040' title 'predicted = measured', \
     'gpu_predicted_vs_measured.dat' index 0 using 1:2 with points pt 7 ps 0.8 lc rgb '#500072B2' title '201_pol (171 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 1 using 1:2 with points pt 7 ps 0.8 lc rgb '#50D55E00' title '294_satellite_image (193 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 2 using 1:2 with points pt 7 ps 0.8 lc rgb '#50009E73' title '529_pollen (175 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 3 using 1:2 with points pt 7 ps 0.8 lc rgb '#50CC79A7' title '537_houses (175 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 4 using 1:2 with points pt 7 ps 0.8 lc rgb '#50E69F00' title 'adult (119 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 5 using 1:2 with points pt 7 ps 0.8 lc rgb '#5056B4E9' title 'banana (163 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 6 using 1:2 with points pt 7 ps 0.8 lc rgb '#50000000' title 'connect_4 (154 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 7 using 1:2 with points pt 7 ps 0.8 lc rgb '#50F0E442' title 'mnist (122 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 8 using 1:2 with points pt 7 ps 0.8 lc rgb '#507F7F7F' title 'nursery (150 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 9 using 1:2 with points pt 7 ps 0.8 lc rgb '#508C564B' title 'sleep (142 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 10 using 1:2 with points pt 7 ps 0.8 lc rgb '#509467BD' title 'splice (137 runs)' noenhanced, \
     'gpu_predicted_vs_measured.dat' index 11 using 1:2 with points pt 7 ps 0.8 lc rgb '#5017BECF' title 'wine_quality_white (172 runs)' noenhanced
set terminal pngcairo size 900,800 enhanced font 'Sans,12' background rgb 'white'
set output stem.'.png'
replot
unset output
